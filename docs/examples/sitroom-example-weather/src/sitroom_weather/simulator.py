"""A weather service on loopback, for the demo and for tests: readings per station, the API
key checked, and an outage switch so tests can watch a source fail and recover."""

from __future__ import annotations

import hmac
import math
import time

from aiohttp import web
from pydantic import Field, SecretStr

from sitroom.api import ConfigModel, serve_forever


class WeatherSimulatorConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(default=18090, ge=0, le=65535)
    api_key: SecretStr = Field(description="The key clients must send (api_key_file: /path).")


def reading(station: str, now: float) -> dict[str, float]:
    """A plausible, deterministic Semarang afternoon: varies by station and by minute."""
    phase = (sum(map(ord, station)) % 60) + now / 60
    return {
        "temperature_c": round(30 + 2 * math.sin(phase), 2),
        "humidity_percent": round(75 + 10 * math.cos(phase), 1),
        "rain_mm_last_hour": round(max(0.0, 8 * math.sin(phase / 3)), 1),
        "observed_at": math.floor(now),
    }


def build_app(config: WeatherSimulatorConfig) -> web.Application:
    key = config.api_key.get_secret_value().encode()
    outage = {"on": False}

    def authorised(request: web.Request) -> bool:
        return hmac.compare_digest(request.headers.get("X-Api-Key", "").encode(), key)

    async def current(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": "bad key"}, status=401)
        if outage["on"]:
            return web.json_response({"error": "maintenance"}, status=503)
        return web.json_response(reading(request.match_info["station"], time.time()))

    async def set_outage(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": "bad key"}, status=401)
        outage["on"] = request.query.get("on") == "1"
        return web.json_response(outage)

    app = web.Application()
    app.router.add_get("/v1/stations/{station}/current", current)
    app.router.add_post("/v1/outage", set_outage)
    return app


async def run_weather_service(config: WeatherSimulatorConfig) -> None:
    await serve_forever(build_app(config), config.host, config.port)
