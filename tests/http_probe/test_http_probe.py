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
        target = "p"
        assert h.value("sitroom_http_probe_success", target=target) == 1
        assert h.value("sitroom_http_probe_status_code", target=target) == 200
        assert h.value("sitroom_http_probe_response_size_bytes", target=target) == 1000
        assert h.value("sitroom_http_probe_duration_seconds", target=target) > 0


async def test_unexpected_status_fails_with_reason(server):
    async with probe(f"{server}/broken") as h:
        with pytest.raises(SourceError) as excinfo:
            await h.collect()
        assert excinfo.value.reason == "status"
        assert h.value("sitroom_http_probe_success", target="p") == 0
        assert h.value("sitroom_http_probe_status_code", target="p") == 503


async def test_redirects_not_followed_by_default(server):
    async with probe(f"{server}/redirect") as h:
        with pytest.raises(SourceError):
            await h.collect()
        assert h.value("sitroom_http_probe_status_code", target="p") == 302
    async with probe(f"{server}/redirect", follow_redirects=True) as h:
        await h.collect()
        assert h.value("sitroom_http_probe_success", target="p") == 1


async def test_timeout_turns_success_off(server):
    async with probe(f"{server}/ok", timeout="0.3s") as ok:
        await ok.collect()
    async with probe(f"{server}/slow", timeout="0.3s") as h:
        h.metrics.set(sitroom_http_probe.SUCCESS, 1, target="p")  # was fine
        with pytest.raises(TimeoutError):
            await h.collect()
        assert h.value("sitroom_http_probe_success", target="p") == 0


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


@pytest.mark.parametrize("tail", [
    "/ok?sessionid=f00dcafe11", "/ok?client_secret=c1ientS3cret", "/ok?jwt=eyJhbGci0iJIUz",
    "/ok?X-Amz-Signature=deadbeef99", "/ok;jsessionid=ABCDEF0123",
])
async def test_no_url_in_any_label(server, tail):
    """Issue 16: the redacted URL in `target` leaked every query secret the redactor's key
    list did not know. The label is the probe's configured name, never its address."""
    async with probe(f"{server}{tail}", expect_status=[200, 404]) as h:
        await h.collect()
        text = h.render()
        assert "http://" not in text and "127.0.0.1" not in text
        assert tail.rsplit("=", 1)[1] not in text
        assert h.value("sitroom_http_probe_success", target="p") == 1


async def test_target_label_is_named_in_config(server):
    async with probe(f"{server}/ok", target="portal-home") as h:
        await h.collect()
        assert h.value("sitroom_http_probe_status_code", target="portal-home") == 200


@pytest.mark.parametrize("target", ["http://x/", "a b", "", "x" * 200])
def test_target_must_be_a_short_name(target):
    with pytest.raises(ValueError, match="target"):
        sitroom_http_probe.HttpProbeConfig.model_validate(
            {"kind": "http_probe", "name": "p", "url": "http://127.0.0.1/", "target": target})
