"""The http_probe kind through sitroom.testing's harness, against a real local server."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

import sitroom_http_probe
from sitroom.api import SourceError
from sitroom.testing import SourceHarness


@pytest.fixture
async def server():
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="x" * 1000)

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, text="down")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/ok")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    app.router.add_get("/slow", slow)
    app.router.add_get("/redirect", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def probe(url: str, **extra) -> SourceHarness:
    return SourceHarness.from_plugin(
        sitroom_http_probe, {"kind": "http_probe", "name": "p", "url": url, **extra})


async def test_success(server):
    async with probe(f"{server}/ok") as h:
        await h.collect()
        target = f"{server}/ok"
        assert h.value("sitroom_http_probe_success", target=target) == 1
        assert h.value("sitroom_http_probe_status_code", target=target) == 200
        assert h.value("sitroom_http_probe_response_size_bytes", target=target) == 1000
        assert h.value("sitroom_http_probe_duration_seconds", target=target) > 0


async def test_unexpected_status_fails_with_reason(server):
    async with probe(f"{server}/broken") as h:
        with pytest.raises(SourceError) as excinfo:
            await h.collect()
        assert excinfo.value.reason == "status"
        assert h.value("sitroom_http_probe_success", target=f"{server}/broken") == 0
        assert h.value("sitroom_http_probe_status_code", target=f"{server}/broken") == 503


async def test_redirects_not_followed_by_default(server):
    async with probe(f"{server}/redirect") as h:
        with pytest.raises(SourceError):
            await h.collect()
        assert h.value("sitroom_http_probe_status_code", target=f"{server}/redirect") == 302
    async with probe(f"{server}/redirect", follow_redirects=True) as h:
        await h.collect()
        assert h.value("sitroom_http_probe_success", target=f"{server}/redirect") == 1


async def test_timeout_turns_success_off(server):
    async with probe(f"{server}/ok", timeout="0.3s") as ok:
        await ok.collect()
    async with probe(f"{server}/slow", timeout="0.3s") as h:
        h.metrics.set(sitroom_http_probe.SUCCESS, 1, target=f"{server}/slow")  # was fine
        with pytest.raises(TimeoutError):
            await h.collect()
        assert h.value("sitroom_http_probe_success", target=f"{server}/slow") == 0


async def test_refused_connection():
    async with probe("http://127.0.0.1:9/") as h:
        with pytest.raises(SourceError) as excinfo:
            await h.collect()
        assert excinfo.value.reason == "connect"


async def test_credentials_never_in_labels(server):
    url = server.replace("http://", "http://user:pa55word@") + "/ok"
    async with probe(url) as h:
        await h.collect()
        assert "pa55word" not in h.render()
