"""`rss` kind: RSS/Atom feeds, fetched with conditional GET and read defensively."""

from __future__ import annotations

import calendar
from typing import Any

import aiohttp
import feedparser

from sitroom.api import (
    BodyTooLarge,
    HostileFeed,
    PollingSource,
    SourceContext,
    SourceError,
    check_feed,
    read_response_bounded,
    redact_url,
)
from sitroom_social.config import RssConfig
from sitroom_social.core import Post, SocialCore
from sitroom_social.fetch import connect_error
from sitroom_social.metrics import FETCHES

ETAG = "rss:etag"
LAST_MODIFIED = "rss:last_modified"


def parse_feed(body: bytes) -> tuple[list[Post], bool]:
    """Entries of a (checked) feed as Posts; second value: whether it looked like a feed."""
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    looks_like_feed = bool(parsed.get("version")) or bool(parsed.entries)
    posts = []
    for entry in parsed.entries:
        posts.append(_entry_post(entry))
    return posts, looks_like_feed


def _entry_post(entry: Any) -> Post:
    title = entry.get("title", "") or ""
    summary = entry.get("summary", "") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value", "") or ""
    link = entry.get("link") or None
    uid = entry.get("id") or link or f"{title}\n{summary}"
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    published = float(calendar.timegm(when)) if when else None
    if title and summary and not summary.startswith(title):
        text = f"{title}. {summary}"
    else:  # many feeds repeat the title as the summary's first sentence
        text = summary or title
    return Post(uid=str(uid), text=text, url=link, published=published, html=True)


class RssSource(PollingSource):
    config: RssConfig

    def __init__(self, config: RssConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.core = SocialCore(config, ctx)
        self.target = redact_url(str(config.url))

    async def collect(self) -> None:
        await self.core.start()
        cursors = self.core.state.cursors
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9"}
        if ETAG in cursors:
            headers["If-None-Match"] = cursors[ETAG]
        if LAST_MODIFIED in cursors:
            headers["If-Modified-Since"] = cursors[LAST_MODIFIED]
        try:
            async with self.ctx.http().get(
                str(self.config.url),
                headers=headers,
                allow_redirects=True,
                max_redirects=3,
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            ) as response:
                if response.status == 304:
                    self.metrics.inc(FETCHES, result="not_modified")
                    self.core.tick()
                    return
                if response.status != 200:
                    raise SourceError("status", f"{self.target}: HTTP {response.status}")
                body = await read_response_bounded(response, self.config.max_bytes)
                etag = response.headers.get("ETag")
                modified = response.headers.get("Last-Modified")
        except BodyTooLarge as exc:
            self.core.reject("too_large")
            raise SourceError("too_large", f"{self.target}: {exc}") from None
        except (aiohttp.ClientError, UnicodeError) as exc:
            raise connect_error(self.target, exc) from exc
        try:
            await self.ctx.run_blocking(check_feed, body)
        except HostileFeed as exc:
            self.core.reject("hostile_xml")
            raise SourceError("hostile_xml", f"{self.target}: refused feed ({exc})") from None
        posts, looks_like_feed = await self.ctx.run_blocking(parse_feed, body)
        if not looks_like_feed:
            self.core.reject("malformed")
            raise SourceError("malformed", f"{self.target}: not an RSS/Atom document")
        self.metrics.inc(FETCHES, result="ok")
        # the whole document must fit the dedupe memory (two hashes per post), or the next
        # poll of the same document recounts what the end of this one evicted
        if not self.core.state.seen.reserve(2 * len(posts)):
            self.ctx.log.warning("social_feed_exceeds_dedupe_memory", posts=len(posts))
        result = self.core.process(posts)
        if etag:
            cursors[ETAG] = etag[:200]
        if modified:
            cursors[LAST_MODIFIED] = modified[:100]
        self.core.state.dirty = True
        self.ctx.set_detail("entries", len(posts))
        self.ctx.set_detail("new_matches", result.matched)
        await self.core.save()

    async def close(self) -> None:
        if self.core.started:
            await self.core.save(force=True)
