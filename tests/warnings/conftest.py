"""A warnings simulator per test (free loopback port), and a tiny server for crafted
documents (hostile, malformed, expired) next to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

import sitroom_warnings
from sitroom.api import SourceHarness, serving
from sitroom_warnings.simulator import WarningsSimulatorConfig, build_app


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    import time

    now = time.time()
    # mid-cycle: the simulator's nowcasts expire a minute before its hourly cycle ends, so a
    # test run in that minute (real time) would find none
    return Clock(now - now % 3600 + 1800)


@pytest.fixture
async def simulator(clock: Clock) -> AsyncIterator[str]:
    app = build_app(WarningsSimulatorConfig(port=0, cycle=3600), clock=clock)
    async with serving(app, "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}"


class Documents:
    """Serves whatever a test puts in `files` (path -> bytes)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = self.files.get(request.path)
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/xml")


@pytest.fixture
async def documents() -> AsyncIterator[Documents]:
    docs = Documents()
    app = web.Application()
    app.router.add_get("/{tail:.*}", docs.handle)
    async with serving(app, "127.0.0.1", 0) as port:
        docs.base = f"http://127.0.0.1:{port}"
        yield docs


def harness(config: dict[str, Any], clock: Callable[[], float] | None = None
            ) -> SourceHarness:
    h = SourceHarness.from_plugin(sitroom_warnings, config)
    if clock is not None:
        h.source.clock = clock  # type: ignore[attr-defined]
    return h
