"""Config models: what every social source shares, and what each kind adds.

Topics and districts are validated here, at config load, because they become metric label
values: a typo must fail `sitroom check-config`, not create a new series at 3 a.m.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, HttpUrl, SecretStr, model_validator

from sitroom.api import ConfigModel, Duration, SourceConfig
from sitroom_social.gazetteer import shipped_gazetteer
from sitroom_social.topics import TOPIC_NAME, TopicSpec, default_topics

MAX_TOPICS = 50
_TOPIC_RE = re.compile(TOPIC_NAME)


class TrendConfig(ConfigModel):
    """How the trend score is computed (see trend.py)."""

    bucket: Duration = Field(default=60.0, ge=1, description="Counting bucket.")
    window: Duration = Field(default=300.0, ge=1, description="Recent span that is scored.")
    half_life: Duration = Field(default=6 * 3600.0, ge=60, description="Baseline memory.")
    min_rate_per_hour: float = Field(
        default=1.0, gt=0, description="Floor of the expected mention rate per key."
    )
    warmup: Duration = Field(default=0.0, ge=0, description="Report 0 this long after start.")

    @model_validator(mode="after")
    def _window_holds_buckets(self) -> TrendConfig:
        if self.window < self.bucket:
            raise ValueError("trend.window must be at least one bucket")
        return self

    @property
    def window_buckets(self) -> int:
        return max(1, round(self.window / self.bucket))


class SocialSourceConfig(SourceConfig):
    """Fields every social kind shares: topics, places, trend and in-memory limits."""

    topics: list[str] | None = Field(
        default=None, description="Shipped topics to watch (default: all of them)."
    )
    custom_topics: dict[str, TopicSpec] = Field(
        default_factory=dict, description="Extra topics, or replacements of shipped ones."
    )
    extra_places: dict[str, str] = Field(
        default_factory=dict, description="Local place name -> district slug."
    )
    trend: TrendConfig = TrendConfig()
    recent_posts: int = Field(default=200, ge=0, le=5000)
    dedupe_capacity: int = Field(default=10_000, ge=100, le=1_000_000)

    @model_validator(mode="after")
    def _check_topics_and_places(self) -> SocialSourceConfig:
        shipped = default_topics()
        for name in self.topics or []:
            if name not in shipped and name not in self.custom_topics:
                raise ValueError(f"unknown topic {name!r} (shipped: {', '.join(shipped)})")
        for name in self.custom_topics:
            if not _TOPIC_RE.match(name):
                raise ValueError(f"topic name {name!r} must match {TOPIC_NAME}")
        if len(self.topic_specs()) > MAX_TOPICS:
            raise ValueError(f"at most {MAX_TOPICS} topics per source")
        districts = shipped_gazetteer()
        for place, slug in self.extra_places.items():
            if slug not in districts:
                raise ValueError(f"extra_places[{place!r}]: unknown district {slug!r}")
        return self

    def topic_specs(self) -> dict[str, TopicSpec]:
        shipped = default_topics()
        names = self.topics if self.topics is not None else list(shipped)
        specs = {n: self.custom_topics.get(n) or shipped[n] for n in names}
        for name, spec in self.custom_topics.items():
            specs.setdefault(name, spec)
        return specs


class RssConfig(SocialSourceConfig):
    kind: str = "rss"
    url: HttpUrl
    interval: Duration = Field(default=300.0, gt=0)
    timeout: Duration = Field(default=20.0, gt=0)
    max_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="Feed size cap."
    )


class TimelineSpec(ConfigModel):
    """One Mastodon stream to follow: a hashtag, the public timeline, or a search."""

    type: Literal["hashtag", "public", "search"]
    tag: str | None = Field(default=None, pattern=r"^\w{1,100}$")
    query: str | None = Field(default=None, min_length=1, max_length=200)
    local: bool = False

    @model_validator(mode="after")
    def _needs_argument(self) -> TimelineSpec:
        if self.type == "hashtag" and not self.tag:
            raise ValueError("a hashtag timeline needs `tag`")
        if self.type == "search" and not self.query:
            raise ValueError("a search needs `query`")
        return self

    @property
    def key(self) -> str:
        return f"{self.type}:{self.tag or self.query or ''}:{int(self.local)}"


class MastodonConfig(SocialSourceConfig):
    kind: str = "mastodon"
    base_url: HttpUrl
    token: SecretStr | None = None
    timelines: list[TimelineSpec] = Field(min_length=1, max_length=20)
    interval: Duration = Field(default=60.0, gt=0)
    timeout: Duration = Field(default=20.0, gt=0)
    page_limit: int = Field(default=40, ge=1, le=40)
    max_pages: int = Field(default=5, ge=1, le=50, description="Pages per timeline per poll.")
    ratelimit_reserve: int = Field(
        default=5, ge=0, le=10_000, description="Stop calling when this few requests remain."
    )
    max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class WebhookConfig(SocialSourceConfig):
    kind: str = "social_webhook"
    max_posts_per_request: int = Field(default=200, ge=1, le=5000)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=4 * 1024 * 1024)


SocialKindName = Literal["rss", "mastodon", "social_webhook"]
