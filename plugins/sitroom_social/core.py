"""The one text pipeline and metric writer behind every social kind.

RSS, Mastodon and the webhook differ only in how posts arrive. Each hands `Post`s to a
`SocialCore`, which dedupes them, matches topics, attributes a district, scores sentiment,
feeds the trend scorer, keeps the latest matches in memory for operators, and writes all
metrics. Keeping this in one place is what makes a topic mean the same thing in every feed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from sitroom.api import SourceContext
from sitroom_social.config import SocialSourceConfig
from sitroom_social.gazetteer import UNKNOWN
from sitroom_social.metrics import (
    DISTRICT_INFO,
    LAST_POST,
    MENTIONS,
    POSTS_DUPLICATE,
    POSTS_MATCHED,
    POSTS_SEEN,
    REJECTED,
    SENTIMENT_POSTS,
    SENTIMENT_SCORE,
    TOPIC_EXPECTED_MENTIONS,
    TOPIC_TREND_SCORE,
    TREND_SCORE,
)
from sitroom_social.pipeline import TextPipeline
from sitroom_social.state import STATE_FILE, SourceState, digest
from sitroom_social.trend import TrendScorer

RECENT_TEXT_CHARS = 500
SENTIMENT_EWMA = 0.1
SAVE_EVERY_SECONDS = 30.0


@dataclass(frozen=True)
class Post:
    """A post as any kind delivers it. `uid` is used for dedupe only, hashed, never shown."""

    uid: str
    text: str
    url: str | None = None
    published: float | None = None
    html: bool = False


@dataclass(frozen=True)
class RecentPost:
    """What operators see in /api/v1/social/recent (held in memory only)."""

    source: str
    topics: tuple[str, ...]
    district: str
    sentiment: float
    text: str
    url: str | None
    published: float | None
    received: float

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "topics": list(self.topics),
            "district": self.district,
            "sentiment": round(self.sentiment, 3),
            "text": self.text,
            "url": self.url,
            "published": self.published,
            "received": self.received,
        }


@dataclass
class BatchResult:
    seen: int = 0
    duplicates: int = 0
    matched: int = 0
    topics: dict[str, int] = field(default_factory=dict)


class SocialCore:
    def __init__(
        self,
        config: SocialSourceConfig,
        ctx: SourceContext,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.ctx = ctx
        self.metrics = ctx.metrics
        self.clock = clock
        self.pipeline = TextPipeline(config)
        self.topics = self.pipeline.topics
        self.gazetteer = self.pipeline.gazetteer
        trend = config.trend
        self.trend = TrendScorer(
            bucket_seconds=trend.bucket,
            window_buckets=trend.window_buckets,
            half_life_seconds=trend.half_life,
            min_rate_per_hour=trend.min_rate_per_hour,
            warmup_seconds=trend.warmup,
            now=clock(),
        )
        self.state = SourceState(config.dedupe_capacity)
        self.recent: deque[RecentPost] = deque(maxlen=config.recent_posts)
        self._sentiment: dict[str, float] = {}
        self.started = False
        self._last_save = clock()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Load persisted state and publish zero-valued series (idempotent)."""
        if self.started:
            return
        self.started = True
        problem = self.state.load(await self.ctx.run_blocking(self.ctx.load_state_json,
                                                              STATE_FILE))
        if problem:
            self.ctx.log.warning("social_state_reset", problem=problem)
        known: dict[str, Hashable] = {}
        for topic in self.topics.names:
            known[topic] = (topic,)
            for district in (*self.gazetteer.districts, UNKNOWN):
                known[f"{topic}|{district}"] = (topic, district)
        self.trend.restore(self.state.baselines, known)
        m = self.metrics
        m.inc(POSTS_SEEN, 0)
        m.inc(POSTS_DUPLICATE, 0)
        for slug, name in self.gazetteer.names.items():
            m.info(DISTRICT_INFO, district=slug, kecamatan=name)
        for topic in self.topics.names:
            m.inc(POSTS_MATCHED, 0, topic=topic)
            self.trend.track((topic,))
        self.tick()

    async def save(self, force: bool = False) -> None:
        """Persist state if it changed (at most every 30 s unless forced)."""
        now = self.clock()
        if not self.state.dirty or (not force and now - self._last_save < SAVE_EVERY_SECONDS):
            return
        self.state.baselines = self.trend.export()
        snapshot = self.state.snapshot()
        self.state.dirty = False
        self._last_save = now
        try:
            await self.ctx.save_state_json(STATE_FILE, snapshot)
        except OSError as exc:
            self.state.dirty = True
            self.ctx.log.warning("social_state_not_saved", error=type(exc).__name__)

    # -- the pipeline ---------------------------------------------------------------------

    def process(self, posts: Iterable[Post]) -> BatchResult:
        """Run posts through dedupe, topics, district, sentiment, trend, metrics."""
        result = BatchResult()
        now = self.clock()
        self.trend.advance(now)
        m = self.metrics
        for post in posts:
            result.seen += 1
            text, toks = self.pipeline.normalise(post.text, post.html)
            ids = (digest("id", post.uid), digest("text", " ".join(toks)))
            if any(i in self.state.seen for i in ids):
                result.duplicates += 1
                continue
            for i in ids:
                self.state.seen.add(i)
            self.state.dirty = True
            analysis = self.pipeline.analyse_tokens(text, toks)
            matched = analysis.topics
            if not matched:
                continue
            result.matched += 1
            district = analysis.district
            score = analysis.sentiment
            mood = analysis.polarity
            fresh = post.published is None or now - post.published <= self.config.trend.window
            for topic in matched:
                result.topics[topic] = result.topics.get(topic, 0) + 1
                m.inc(POSTS_MATCHED, topic=topic)
                m.inc(MENTIONS, topic=topic, district=district)
                m.inc(SENTIMENT_POSTS, topic=topic, sentiment=mood)
                previous = self._sentiment.get(topic)
                mean = score if previous is None else previous + SENTIMENT_EWMA * (
                    score - previous
                )
                self._sentiment[topic] = mean
                m.set(SENTIMENT_SCORE, mean, topic=topic)
                if fresh:  # a backlog of old posts is not a burst happening now
                    self.trend.add((topic,), now)
                    self.trend.add((topic, district), now)
            self.recent.append(
                RecentPost(
                    source=self.ctx.name,
                    topics=tuple(matched),
                    district=district,
                    sentiment=score,
                    text=text[:RECENT_TEXT_CHARS],
                    url=post.url,
                    published=post.published,
                    received=now,
                )
            )
        m.inc(POSTS_SEEN, result.seen)
        m.inc(POSTS_DUPLICATE, result.duplicates)
        if result.seen > result.duplicates:
            m.set(LAST_POST, now)
        self.tick(now)
        return result

    def tick(self, now: float | None = None) -> None:
        """Close finished buckets and refresh every trend gauge."""
        now = self.clock() if now is None else now
        m = self.metrics
        for key in self.trend.tracked():
            assert isinstance(key, tuple)
            score = self.trend.score(key, now)
            if len(key) == 1:
                m.set(TOPIC_TREND_SCORE, score, topic=key[0])
                m.set(TOPIC_EXPECTED_MENTIONS, self.trend.expected(key),
                      topic=key[0])
            else:
                m.set(TREND_SCORE, score, topic=key[0], district=key[1])

    def reject(self, reason: str) -> None:
        self.metrics.inc(REJECTED, reason=reason)

    def recent_posts(self, topic: str | None = None, limit: int = 50) -> list[RecentPost]:
        posts = [p for p in reversed(self.recent) if topic is None or topic in p.topics]
        return posts[:limit]
