"""`mastodon` kind: hashtag and public timelines and status search over the REST API.

Paging uses `min_id`: the server answers with the statuses immediately after the cursor, so
paging forward page by page never leaves a gap (with `since_id` a busy tag loses everything
between the cursor and the newest page). The first poll only reads the newest page and
sets the cursor, so a new source does not replay a tag's history as a burst.
Rate limits: X-RateLimit-Remaining/Reset are read on every answer; at `ratelimit_reserve`
the source stops calling until the reset time, and a 429 pauses it until Retry-After.
"""

from __future__ import annotations

import email.utils
import json
import time
from datetime import datetime
from typing import Any

import aiohttp

from sitroom.api import (
    BodyTooLarge,
    PollingSource,
    SourceContext,
    SourceError,
    read_response_bounded,
    redact_url,
)
from sitroom_social.config import MastodonConfig, TimelineSpec
from sitroom_social.core import Post, SocialCore
from sitroom_social.fetch import connect_error
from sitroom_social.metrics import FETCHES, RATELIMIT_REMAINING


def parse_time(value: str | None) -> float | None:
    """Mastodon's ISO 8601 timestamps (`2026-10-14T19:10:29.321Z`) as Unix seconds."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return now + float(value)
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return parse_time(value)


def status_post(status: dict[str, Any]) -> Post | None:
    """A public status as a Post (boosts resolve to the boosted status)."""
    if isinstance(status.get("reblog"), dict):
        status = status["reblog"]
    if status.get("visibility", "public") not in ("public", "unlisted"):
        return None
    sid = status.get("id")
    content = status.get("content")
    if not isinstance(sid, str) or not isinstance(content, str):
        return None
    spoiler = status.get("spoiler_text") or ""
    text = f"{spoiler} {content}" if spoiler else content
    uid = status.get("uri") or status.get("url") or sid
    return Post(
        uid=str(uid),
        text=text,
        url=status.get("url") if isinstance(status.get("url"), str) else None,
        published=parse_time(status.get("created_at")),
        html=True,
    )


def id_key(status_id: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings ordered by time; compare them as numbers."""
    return (int(status_id), "") if status_id.isdigit() else (0, status_id)


class MastodonSource(PollingSource):
    config: MastodonConfig

    def __init__(self, config: MastodonConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.core = SocialCore(config, ctx)
        self.base = str(config.base_url).rstrip("/")
        self.target = redact_url(self.base)
        self.paused_until = 0.0
        self.requests = 0

    async def collect(self) -> None:
        await self.core.start()
        now = time.time()
        if now < self.paused_until:
            self.metrics.inc(FETCHES, result="ratelimited")
            self.core.tick()
            return
        for timeline in self.config.timelines:
            if not await self._follow(timeline):
                break  # rate limit reached: the rest waits for the next window
        await self.core.save()

    async def _follow(self, timeline: TimelineSpec) -> bool:
        """Read new statuses of one timeline; False when the rate limit says stop."""
        cursor_name = f"mastodon:{timeline.key}"
        cursor = self.core.state.cursors.get(cursor_name)
        for _page in range(self.config.max_pages if cursor else 1):
            statuses, proceed = await self._page(timeline, cursor)
            ids = [s["id"] for s in statuses if isinstance(s.get("id"), str)]
            posts = [p for p in (status_post(s) for s in statuses) if p is not None]
            self.core.process(posts)
            if ids:
                newest = max(ids, key=id_key)
                if cursor is None or id_key(newest) > id_key(cursor):
                    cursor = newest
                    self.core.state.cursors[cursor_name] = cursor
                    self.core.state.dirty = True
            if not proceed:
                return False
            if len(statuses) < self.config.page_limit or not ids:
                break
        return True

    def _request(self, timeline: TimelineSpec, cursor: str | None) -> tuple[str, dict[str, str]]:
        params: dict[str, str] = {"limit": str(self.config.page_limit)}
        if cursor:
            params["min_id"] = cursor
        if timeline.type == "hashtag":
            path = f"/api/v1/timelines/tag/{timeline.tag}"
        elif timeline.type == "public":
            path = "/api/v1/timelines/public"
        else:
            path = "/api/v2/search"
            params.update({"q": timeline.query or "", "type": "statuses", "resolve": "false"})
        if timeline.local:
            params["local"] = "true"
        return self.base + path, params

    async def _page(
        self, timeline: TimelineSpec, cursor: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        url, params = self._request(timeline, cursor)
        headers = {"Accept": "application/json"}
        if self.config.token is not None:
            headers["Authorization"] = f"Bearer {self.config.token.get_secret_value()}"
        try:
            async with self.ctx.http().get(
                url,
                params=params,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            ) as response:
                self.requests += 1
                proceed = self._rate_limit(response)
                if response.status == 429:
                    self.metrics.inc(FETCHES, result="ratelimited")
                    retry = parse_retry_after(response.headers.get("Retry-After"), time.time())
                    self.paused_until = max(self.paused_until, retry or time.time() + 300)
                    raise SourceError("ratelimit", f"{self.target}: HTTP 429")
                if response.status in (401, 403):
                    raise SourceError("auth", f"{self.target}: HTTP {response.status}")
                if response.status != 200:
                    raise SourceError("status", f"{self.target}: HTTP {response.status}")
                body = await read_response_bounded(response, self.config.max_bytes)
        except BodyTooLarge as exc:
            self.core.reject("too_large")
            raise SourceError("too_large", f"{self.target}: {exc}") from None
        except aiohttp.ClientError as exc:
            raise connect_error(self.target, exc) from exc
        try:
            data = json.loads(body)
        except ValueError:
            self.core.reject("malformed")
            raise SourceError("decode", f"{self.target}: answer is not JSON") from None
        if isinstance(data, dict):  # v2 search
            data = data.get("statuses", [])
        if not isinstance(data, list):
            self.core.reject("malformed")
            raise SourceError("decode", f"{self.target}: unexpected answer shape")
        self.metrics.inc(FETCHES, result="ok")
        return [s for s in data if isinstance(s, dict)], proceed

    def _rate_limit(self, response: aiohttp.ClientResponse) -> bool:
        """Honour X-RateLimit-*: pause until reset when the reserve is reached."""
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is None or not remaining.strip().isdigit():
            return True
        left = int(remaining)
        self.metrics.set(RATELIMIT_REMAINING, left)
        if left > self.config.ratelimit_reserve:
            return True
        reset = parse_time(response.headers.get("X-RateLimit-Reset"))
        self.paused_until = max(self.paused_until, reset or time.time() + 300)
        self.ctx.set_detail("paused_until", self.paused_until)
        return False

    async def close(self) -> None:
        if self.core.started:
            await self.core.save(force=True)
