"""A stand-in for a city web service (the public portal), so the demo has something to probe."""

from __future__ import annotations

import asyncio
import random

from aiohttp import web
from pydantic import Field

from sitroom.api import ConfigModel, serve_forever


class WebServiceSimulatorConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(default=18080, ge=1, le=65535)
    error_ratio: float = Field(default=0.0, ge=0, le=1, description="Share of 503 answers.")


async def run_web_service(config: WebServiceSimulatorConfig) -> None:
    async def index(request: web.Request) -> web.Response:
        if random.random() < config.error_ratio:
            return web.Response(status=503, text="maintenance\n")
        await asyncio.sleep(random.uniform(0.005, 0.05))
        return web.Response(text="Pemerintah Kota Semarang: layanan publik\n")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="late\n")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/slow", slow)
    await serve_forever(app, config.host, config.port)
