"""The `mastodon` kind against recorded answers of a real Mastodon server (Mastodon.py's VCR
cassettes, committed in tests/data/mastodon), served from a loopback aiohttp server."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import sitroom_social
from sitroom.api import SourceError
from sitroom.testing import SourceHarness
from tests.social.conftest import recorded, serve, with_topic, write_token

TOKEN = "s3cr3t-mastodon-token-value"


class RecordedMastodon:
    """Serves recorded statuses; applies min_id/limit paging and rate-limit headers itself."""

    def __init__(self, statuses: list[dict[str, Any]], headers: dict[str, str]) -> None:
        self.statuses = statuses  # newest first, as Mastodon answers
        self.headers = headers
        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        self.remaining: int | None = None
        self.status = 200
        self.search_body: dict[str, Any] | None = None

    def _page(self, query: Any) -> list[dict[str, Any]]:
        limit = int(query.get("limit", "20"))
        items = self.statuses
        if "min_id" in query:
            newer = [s for s in items if int(s["id"]) > int(query["min_id"])]
            return newer[-limit:]  # the oldest `limit` after the cursor, newest first
        return items[:limit]

    def _answer(self, body: Any) -> web.Response:
        headers = {k: v for k, v in self.headers.items()
                   if k.lower().startswith("x-ratelimit") or k.lower() == "link"}
        if self.remaining is not None:
            headers["x-ratelimit-remaining"] = str(self.remaining)
        if self.status != 200:
            return web.json_response({"error": "x"}, status=self.status,
                                     headers={**headers, "Retry-After": "120"})
        return web.json_response(body, headers=headers)

    def app(self) -> web.Application:
        async def timeline(request: web.Request) -> web.Response:
            self.requests.append((request.path, dict(request.query),
                                  request.headers.get("Authorization")))
            return self._answer(self._page(request.query))

        async def search(request: web.Request) -> web.Response:
            self.requests.append((request.path, dict(request.query),
                                  request.headers.get("Authorization")))
            body = copy.deepcopy(self.search_body) or {"statuses": []}
            body["statuses"] = body.get("statuses") or self._page(request.query)
            return self._answer(body)

        app = web.Application()
        app.router.add_get("/api/v1/timelines/tag/{tag}", timeline)
        app.router.add_get("/api/v1/timelines/public", timeline)
        app.router.add_get("/api/v2/search", search)
        return app


def hashtag_recording() -> tuple[list[dict[str, Any]], dict[str, str]]:
    body, headers = recorded("test_hashtag_tl.yaml", "GET", "/api/v1/timelines/tag/hoot")
    return body, headers


def real_statuses_with_text(count: int) -> list[dict[str, Any]]:
    """The recorded status, repeated with later ids and real Indonesian flood sentences."""
    status, _ = recorded("test_status.yaml", "GET", "/api/v1/statuses/")
    floods = with_topic("banjir") + with_topic("macet")
    out = []
    for i in range(count):
        s = copy.deepcopy(status)
        s["id"] = str(int(status["id"]) + i + 1)
        s["uri"] = f"{status['uri']}-{i}"
        s["content"] = f"<p>{floods[i % len(floods)].text} #{i}</p>"
        out.append(s)
    return list(reversed(out))


def config(url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"kind": "mastodon", "name": "masto", "base_url": url,
            "token_file": str(write_token(tmp_path, TOKEN)),
            "custom_topics": {"hoot": {"keywords": ["hoot"]}},
            "timelines": [{"type": "hashtag", "tag": "hoot"}], **extra}


async def test_recorded_hashtag_timeline(tmp_path: Path) -> None:
    body, headers = hashtag_recording()
    server = RecordedMastodon(body, headers)
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, tmp_path), state_dir=tmp_path
    ) as h:
        await h.collect()
        path, query, auth = server.requests[0]
        assert path == "/api/v1/timelines/tag/hoot"
        assert auth == f"Bearer {TOKEN}"
        assert "min_id" not in query  # first poll: newest page only, sets the cursor
        assert h.value("sitroom_social_posts_seen_total") == len(body) == 1
        assert h.value("sitroom_social_posts_matched_total", topic="hoot") == 1
        assert h.value("sitroom_social_ratelimit_remaining") == int(
            headers["x-ratelimit-remaining"])
        await h.collect()
        assert server.requests[1][1]["min_id"] == body[0]["id"]
        assert h.value("sitroom_social_posts_seen_total") == 1  # nothing new, nothing twice
        exposition = h.render()
        assert TOKEN not in exposition
        assert "mastodonpy_test" not in exposition  # no handles in metrics
        recent = h.source.core.recent_posts("hoot")
        assert recent[0].text == "#hoot (hashtag toot)"
        assert recent[0].url == body[0]["url"]


async def test_min_id_paging_reads_every_new_status_once(tmp_path: Path) -> None:
    statuses = real_statuses_with_text(23)
    server = RecordedMastodon(statuses[-3:], hashtag_recording()[1])
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, tmp_path, page_limit=5, max_pages=10), state_dir=tmp_path
    ) as h:
        await h.collect()  # sees the 3 oldest, cursor at the newest of them
        server.statuses = statuses  # 20 more arrive
        await h.collect()
        min_ids = [q.get("min_id") for _, q, _ in server.requests[1:]]
        assert len(min_ids) == 5  # 4 full pages of 5 and one empty page
        assert min_ids == sorted(min_ids, key=int) and len(set(min_ids)) == 5
        assert h.value("sitroom_social_posts_seen_total") == 23
        assert h.value("sitroom_social_posts_duplicate_total") == 0
        matched = h.value("sitroom_social_posts_matched_total", topic="banjir") or 0
        matched += h.value("sitroom_social_posts_matched_total", topic="macet") or 0
        assert matched == 23


async def test_rate_limit_reserve_pauses_polling_until_reset(tmp_path: Path) -> None:
    body, headers = hashtag_recording()
    server = RecordedMastodon(body, headers | {"x-ratelimit-reset": "2999-01-01T00:00:00Z"})
    server.remaining = 3
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, tmp_path, ratelimit_reserve=5), state_dir=tmp_path
    ) as h:
        await h.collect()
        assert len(server.requests) == 1
        await h.collect()  # paused: no request at all
        assert len(server.requests) == 1
        assert h.value("sitroom_social_fetches_total", result="ratelimited") == 1
        assert h.value("sitroom_social_ratelimit_remaining") == 3


async def test_429_pauses_and_reports_ratelimit(tmp_path: Path) -> None:
    body, headers = hashtag_recording()
    server = RecordedMastodon(body, headers)
    server.status = 429
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, tmp_path), state_dir=tmp_path
    ) as h:
        with pytest.raises(SourceError) as info:
            await h.collect()
        assert info.value.reason == "ratelimit"
        assert TOKEN not in str(info.value)
        await h.collect()  # within Retry-After: no request
        assert len(server.requests) == 1


async def test_recorded_search_v2_answer(tmp_path: Path) -> None:
    body, headers = recorded("test_search.yaml", "GET", "type=statuses")
    server = RecordedMastodon([], headers)
    server.search_body = body
    cfg = config(url="", tmp_path=tmp_path)
    async with serve(server.app()) as url:
        cfg["base_url"] = url
        cfg["timelines"] = [{"type": "search", "query": "banjir semarang"}]
        async with SourceHarness.from_plugin(sitroom_social, cfg, state_dir=tmp_path) as h:
            await h.collect()
            path, query, _ = server.requests[0]
            assert path == "/api/v2/search"
            assert query["q"] == "banjir semarang" and query["type"] == "statuses"
            assert h.value("sitroom_social_posts_seen_total") == 0
            assert h.value("sitroom_social_fetches_total", result="ok") == 1


@pytest.mark.parametrize(("status", "reason"), [(401, "auth"), (500, "status")])
async def test_http_errors_have_reasons(tmp_path: Path, status: int, reason: str) -> None:
    server = RecordedMastodon([], {})
    server.status = status
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, tmp_path), state_dir=tmp_path
    ) as h:
        with pytest.raises(SourceError) as info:
            await h.collect()
        assert info.value.reason == reason


async def test_non_json_answer_is_a_decode_error(tmp_path: Path) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>proxy error</html>")

    app = web.Application()
    app.router.add_get("/api/v1/timelines/tag/{tag}", html)
    async with serve(app) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, tmp_path), state_dir=tmp_path
    ) as h:
        with pytest.raises(SourceError) as info:
            await h.collect()
        assert info.value.reason == "decode"
        assert h.value("sitroom_social_rejected_total", reason="malformed") == 1


def test_timeline_config_needs_its_argument(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from sitroom_social.config import MastodonConfig

    with pytest.raises(ValidationError, match="needs `tag`"):
        MastodonConfig.model_validate({"kind": "mastodon", "name": "m",
                                       "base_url": "http://127.0.0.1:1",
                                       "timelines": [{"type": "hashtag"}]})


def test_boosts_resolve_and_private_statuses_are_skipped() -> None:
    from sitroom_social.mastodon import status_post

    status, _ = recorded("test_status.yaml", "GET", "/api/v1/statuses/")
    boost = {"id": "9", "content": "", "visibility": "public", "reblog": status}
    post = status_post(boost)
    assert post is not None and post.text == status["content"] and post.url == status["url"]
    assert status_post({**status, "visibility": "direct"}) is None
    assert status_post({**status, "content": None}) is None
