"""A loopback stand-in for a news RSS feed and a Mastodon server, for the demo city.

Posts are real Indonesian news sentences (data/sim_posts.yaml) shaped like the real Mastodon
status recorded in data/sim_status_template.json, one every `post_every`, each tagged with
a Semarang place (a stand-in for a geotag). Every `burst_every` a burst of flood posts from
one place arrives, so the demo's trend score and alert have something to show.
The Mastodon side honours `limit`, `min_id`, `since_id`, `max_id`, sends rate-limit headers
and Link pagination; the RSS side honours If-None-Match.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

import yaml
from aiohttp import web
from pydantic import Field

from sitroom.api import ConfigModel, Duration, serve_forever

PLACES = ("Kaligawe", "Simpang Lima", "Tembalang", "Tlogosari", "Kota Lama", "Mangkang",
          "Srondol", "Jatingaleh", "Sampangan", "Genuk", "Ngaliyan", "Manyaran")


class SocialSimulatorConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(default=18601, ge=1, le=65535)
    post_every: Duration = Field(default=20.0, gt=0)
    burst_every: Duration = Field(default=900.0, ge=0, description="0 disables bursts.")
    burst_size: int = Field(default=15, ge=0, le=500)
    burst_place: str = "Kaligawe"
    keep: int = Field(default=200, ge=10, le=5000, description="Posts the server remembers.")


@lru_cache(maxsize=1)
def material() -> tuple[dict[str, Any], list[str], list[str]]:
    files = resources.files("sitroom_social")
    template = json.loads(files.joinpath("data/sim_status_template.json").read_text())
    posts = yaml.safe_load(files.joinpath("data/sim_posts.yaml").read_text())
    return template, list(posts["posts"]), list(posts["flood"])


@dataclass(frozen=True)
class SimPost:
    seq: int
    text: str
    created: float

    @property
    def id(self) -> str:
        """Snowflake-like, as Mastodon's: milliseconds << 16 | sequence, so ids keep growing
        across simulator restarts (a daemon's saved cursor stays valid)."""
        return str((int(self.created * 1000) << 16) | (self.seq & 0xFFFF))


class PostStream:
    """Deterministic posts as a function of time (so restarts replay the same stream)."""

    def __init__(
        self, config: SocialSimulatorConfig, started: float, bursts_from: float | None = None
    ) -> None:
        self.config = config
        self.started = started
        self.bursts_from = started if bursts_from is None else bursts_from
        self.posts: list[SimPost] = []
        self.seq = 0
        self._bursts_done = 0

    def advance(self, now: float) -> None:
        _, sentences, flood = material()
        due = int((now - self.started) / self.config.post_every)
        self.seq = max(self.seq, due - self.config.keep)  # after a long gap, only the last few
        while self.seq < due:
            created = self.started + self.seq * self.config.post_every
            sentence = sentences[self.seq % len(sentences)]
            place = PLACES[(self.seq + self.seq // len(sentences)) % len(PLACES)]
            stamp = datetime.fromtimestamp(created, UTC).strftime("%H:%M:%S")
            self._add(f"{sentence} #{place} (pukul {stamp} UTC)", created)
        if self.config.burst_every > 0 and self.config.burst_size:
            bursts_due = int((now - self.bursts_from) / self.config.burst_every)
            kept = max(1, self.config.keep // self.config.burst_size)
            self._bursts_done = max(self._bursts_done, bursts_due - kept)  # only what is kept
            while self._bursts_done < bursts_due:
                self._bursts_done += 1
                for i in range(self.config.burst_size):
                    sentence = flood[i % len(flood)]
                    self._add(f"{sentence} Banjir lagi di {self.config.burst_place} "
                              f"(laporan {self._bursts_done}-{i + 1})", now)

    def _add(self, text: str, created: float) -> None:
        self.posts.append(SimPost(self.seq, text, created))
        self.seq += 1
        del self.posts[: -self.config.keep]


def status_json(post: SimPost, base_url: str) -> dict[str, Any]:
    template, _, _ = material()
    status = copy.deepcopy(template)
    created = datetime.fromtimestamp(post.created, UTC)
    status.update(
        id=post.id,
        created_at=created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z",
        language="id",
        uri=f"{base_url}/users/warga/statuses/{post.id}",
        url=f"{base_url}/@warga/{post.id}",
        content=f"<p>{escape(post.text)}</p>",
    )
    account = status.get("account", {})
    account.update(username="warga", acct="warga", display_name="Warga Semarang", note="")
    return status


def select(posts: list[SimPost], query: Any) -> list[SimPost]:
    """Mastodon's paging: newest first; min_id pages forward from the cursor."""
    limit = max(1, min(40, int(query.get("limit", "20") or 20)))
    items = posts
    if "max_id" in query:
        items = [p for p in items if int(p.id) < int(query["max_id"])]
    if "since_id" in query:
        items = [p for p in items if int(p.id) > int(query["since_id"])]
    if "min_id" in query:
        items = [p for p in items if int(p.id) > int(query["min_id"])][:limit]
        return list(reversed(items))
    return list(reversed(items))[:limit]


def rss_document(posts: list[SimPost], base_url: str) -> str:
    items = []
    for post in reversed(posts[-30:]):
        title = escape(post.text.split(". ")[0][:120])
        items.append(
            f"<item><title>{title}</title><link>{base_url}/berita/{post.id}</link>"
            f"<guid isPermaLink=\"false\">berita-{post.id}</guid>"
            f"<pubDate>{format_datetime(datetime.fromtimestamp(post.created, UTC))}</pubDate>"
            f"<description>{escape(post.text)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Kabar Kota (simulasi)</title><link>" + base_url + "</link>"
        "<description>Berita simulasi dari kalimat berita nyata</description>"
        + "".join(items) + "</channel></rss>\n"
    )


def build_app(config: SocialSimulatorConfig, started: float | None = None) -> web.Application:
    if started is None:  # open with a backlog of 30 posts, as a real feed would have
        now = time.time()
        stream = PostStream(config, now - 30 * config.post_every, bursts_from=now)
    else:
        stream = PostStream(config, started)
    window = {"start": time.time(), "used": 0}
    limit = 300

    def base_url(request: web.Request) -> str:
        return f"http://{request.host}"

    def rate_headers() -> dict[str, str]:
        now = time.time()
        if now - window["start"] >= 300:
            window.update(start=now, used=0)
        window["used"] += 1
        reset = datetime.fromtimestamp(window["start"] + 300, UTC).isoformat()
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - window["used"])),
            "X-RateLimit-Reset": reset.replace("+00:00", "Z"),
        }

    async def timeline(request: web.Request) -> web.Response:
        stream.advance(time.time())
        try:
            posts = select(stream.posts, request.query)
        except ValueError:
            return web.json_response({"error": "bad paging parameter"}, status=400)
        body = [status_json(p, base_url(request)) for p in posts]
        return web.json_response(body, headers=rate_headers())

    async def search(request: web.Request) -> web.Response:
        stream.advance(time.time())
        words = request.query.get("q", "").lower().split()
        matching = [p for p in stream.posts if all(w in p.text.lower() for w in words)]
        try:
            posts = select(matching, request.query)
        except ValueError:
            return web.json_response({"error": "bad paging parameter"}, status=400)
        body = {"accounts": [], "hashtags": [],
                "statuses": [status_json(p, base_url(request)) for p in posts]}
        return web.json_response(body, headers=rate_headers())

    async def feed(request: web.Request) -> web.Response:
        stream.advance(time.time())
        latest = stream.posts[-1].id if stream.posts else "empty"
        etag = '"' + hashlib.sha1(latest.encode()).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            text=rss_document(stream.posts, base_url(request)),
            content_type="application/rss+xml",
            headers={"ETag": etag},
        )

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/api/v1/timelines/tag/{tag}", timeline)
    app.router.add_get("/api/v1/timelines/public", timeline)
    app.router.add_get("/api/v2/search", search)
    return app


async def run_social_simulator(config: SocialSimulatorConfig) -> None:
    await serve_forever(build_app(config), config.host, config.port)
