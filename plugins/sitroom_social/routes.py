"""HTTP routes: bridge ingest and the operators' view of recent matched posts.

Both need the daemon's bearer token (Route(auth=True)): ingest changes state, and recent
posts show people's words, which belong in front of operators only, never in metrics.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import ValidationError

from sitroom.api import BodyTooLarge, Route, format_validation_error, read_request_bounded
from sitroom_social.core import SocialCore
from sitroom_social.webhook import BridgePayload, WebhookSource

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI

SOCIAL_KINDS = ("rss", "mastodon", "social_webhook")
_TOPIC = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_RECENT = 200


def _error(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def social_routes(daemon: DaemonAPI) -> list[Route]:
    async def ingest(request: web.Request) -> web.StreamResponse:
        name = request.match_info["source"]
        source = daemon.source(name, kind="social_webhook")
        if not isinstance(source, WebhookSource):
            return _error(404, "no social_webhook source by that name")
        limit = source.config.max_body_bytes
        try:
            body = await read_request_bounded(request, limit)
        except BodyTooLarge:
            source.core.reject("too_large")
            return _error(413, f"body larger than {limit} bytes")
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..."
            source.core.reject("malformed")
            return _error(400, "body is not JSON")
        try:
            payload = BridgePayload.model_validate(raw)
        except ValidationError as exc:
            source.core.reject("invalid")
            return _error(400, "invalid payload", details=format_validation_error(exc))
        if len(payload.posts) > source.config.max_posts_per_request:
            source.core.reject("too_large")
            return _error(413, f"more than {source.config.max_posts_per_request} posts")
        result = await source.ingest([p.post() for p in payload.posts])
        return web.json_response(
            {"accepted": result.seen, "duplicates": result.duplicates, "matched": result.matched}
        )

    async def recent(request: web.Request) -> web.StreamResponse:
        topic = request.query.get("topic") or None
        if topic is not None and not _TOPIC.match(topic):
            return _error(400, "topic must be a topic name such as banjir")
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            return _error(400, "limit must be an integer")
        limit = max(1, min(MAX_RECENT, limit))
        only = request.query.get("source") or None
        cores: list[SocialCore] = []
        for kind in SOCIAL_KINDS:
            for source in daemon.sources(kind=kind):
                core = getattr(source, "core", None)
                if isinstance(core, SocialCore) and (only is None or core.ctx.name == only):
                    cores.append(core)
        posts = [p for core in cores for p in core.recent_posts(topic, limit)]
        posts.sort(key=lambda p: p.received, reverse=True)
        return web.json_response(
            {"posts": [p.as_json() for p in posts[:limit]]},
            headers={"Cache-Control": "no-store"},
        )

    return [
        Route("GET", "/api/v1/social/recent", recent),
        Route("POST", "/api/v1/social/{source}", ingest),
    ]
