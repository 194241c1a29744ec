"""The fixture the plugin's tests share: its own simulator, serving on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from sitroom.api import serving
from sitroom_weather.simulator import WeatherSimulatorConfig, build_app

KEY = "test-key-7f3a"


# --8<-- [start:fixture]
@dataclass
class WeatherService:
    url: str
    key: str

    async def outage(self, on: bool) -> None:
        async with aiohttp.ClientSession() as session, session.post(
            f"{self.url}/v1/outage", params={"on": "1" if on else "0"},
            headers={"X-Api-Key": self.key},
        ) as response:
            response.raise_for_status()


@pytest.fixture
async def weather_service() -> AsyncIterator[WeatherService]:
    """The plugin's simulator on a free loopback port (port 0), stopped after the test."""
    app = build_app(WeatherSimulatorConfig(port=0, api_key=KEY))
    async with serving(app, "127.0.0.1", 0) as port:
        yield WeatherService(f"http://127.0.0.1:{port}", KEY)
# --8<-- [end:fixture]
