"""A real aiohttp JSON API on 127.0.0.1 (a free port per test) whose answers tests choose."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class JsonApi:
    """Serves `routes[path]`; records the headers of every request it saw."""

    base: str = ""
    routes: dict[str, Handler] = field(default_factory=dict)
    seen_headers: list[dict[str, str]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def json(self, path: str, body: object) -> str:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(body)

        self.routes[path] = handler
        return self.url(path)


@pytest.fixture
async def api() -> AsyncIterator[JsonApi]:
    state = JsonApi()

    async def dispatch(request: web.Request) -> web.StreamResponse:
        state.seen_headers.append(dict(request.headers))
        handler = state.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such path")
        return await handler(request)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.base = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await asyncio.wait_for(runner.cleanup(), 10)
