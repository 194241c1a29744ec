"""The HTTP probe never follows a redirect, so credentials never reach a redirect target.

The live camera is published with redirects off; a probe that followed them would pass a
camera that then fails for ever. Two loopback servers: the camera (Basic auth) redirects to
a second one that records every request it gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sitroom.netguard import NetGuard
from sitroom_registry.probe import ProbeTarget, probe, redirect_detail

USER, PASSWORD = "admin", "pw-redirect-secret"


async def run_blocking(func: Any, *args: Any) -> Any:
    return await asyncio.to_thread(func, *args)


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


@pytest.fixture
async def servers() -> AsyncIterator[tuple[dict[str, Any], int, int]]:
    state: dict[str, Any] = {"location": "", "camera": [], "elsewhere": []}

    async def camera(request: web.Request) -> web.StreamResponse:
        state["camera"].append((request.path, request.headers.get("Authorization")))
        if request.path == "/snap.jpg":
            raise web.HTTPFound(state["location"])
        return web.Response(text="followed", content_type="text/plain")

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        state["elsewhere"].append((request.path, request.headers.get("Authorization")))
        return web.Response(text="followed", content_type="text/plain")

    first, second = web.Application(), web.Application()
    first.router.add_get("/{tail:.*}", camera)
    second.router.add_get("/{tail:.*}", elsewhere)
    runner1, port1 = await serve(first)
    runner2, port2 = await serve(second)
    yield state, port1, port2
    await runner1.cleanup()
    await runner2.cleanup()


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("http://127.0.0.1:{other}/final.jpg", "http://127.0.0.1:{other}"),  # port change
        ("/final.jpg", "http://127.0.0.1:{port}"),  # same host and port
        ("http://admin:pw@127.0.0.1:{other}/x?token=t", "http://127.0.0.1:{other}"),
    ],
)
async def test_a_redirect_fails_the_probe_and_no_credentials_follow_it(
    servers: tuple[dict[str, Any], int, int], location: str, shown: str
) -> None:
    state, port, other = servers
    state["location"] = location.format(other=other, port=port)
    guard = NetGuard(allow_networks=["127.0.0.1/32"])
    target = ProbeTarget("http", "127.0.0.1", port, "/snap.jpg", USER, PASSWORD)
    result = await probe(target, guard, 5.0, 1_000_000, run_blocking)
    assert result.result == "redirect", result
    assert result.detail == (
        f"camera redirects to {shown.format(other=other, port=port)}; register the final URL"
    )
    assert "pw" not in result.detail and "token" not in result.detail
    # the camera got exactly one request (with its credentials); nobody got a second one
    assert state["camera"] == [("/snap.jpg", aiohttp.encode_basic_auth(USER, PASSWORD))]
    assert state["elsewhere"] == []


@pytest.mark.parametrize(
    "location", ["http://exa mple/", "javascript:alert(1)", "http://[::1", "//\u00e9vil/"]
)
def test_odd_locations_are_described_without_echoing_them(location: str) -> None:
    detail = redirect_detail("http://127.0.0.1:8080/snap.jpg", location)
    assert detail.endswith("register the final URL")
    assert "alert" not in detail and "mple" not in detail and "\u00e9" not in detail
