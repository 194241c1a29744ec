"""Helpers for plugin simulators: serve an aiohttp app on loopback for as long as needed.

Simulators are real network peers the demo city and tests talk to; each used to repeat the
same runner/site/cleanup dance. Cancelling the task that serves stops the server cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web


@contextlib.asynccontextmanager
async def serving(
    app: web.Application, host: str, port: int, shutdown_timeout: float = 1.0
) -> AsyncIterator[int]:
    """Serve `app` inside the block; yields the bound port (useful when `port` is 0)."""
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    bound = int(addresses[0][1]) if addresses else port
    try:
        yield bound
    finally:
        await runner.cleanup()


async def serve_forever(app: web.Application, host: str, port: int) -> None:
    """Serve `app` until the calling task is cancelled."""
    async with serving(app, host, port):
        await asyncio.Event().wait()
