"""Fixtures: an in-process pump simulator on free loopback ports, and source configs for it.

The simulator's clock is stopped (a one-hour tick) so tests move physics explicitly with
`world.step()` and never depend on timing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sitroom_pumps.simulator import PumpSimulatorConfig, World

REPO = Path(__file__).resolve().parents[2]
CONF_DIR = REPO / "conf.d"
PROFILES = CONF_DIR / "profiles"


def sim_config(**overrides: Any) -> PumpSimulatorConfig:
    """The demo city's stations on free ports, clock stopped."""
    stations = [
        {**s.model_dump(), "port": 0} for s in PumpSimulatorConfig().stations
    ]
    data: dict[str, Any] = {"control_port": 0, "tick": 3600, "stations": stations}
    data.update(overrides)
    return PumpSimulatorConfig.model_validate(data)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with World(sim_config()) as started:
        yield started


async def acontrol(world: World, method: str, path: str, body: dict[str, Any] | None = None
                   ) -> tuple[int, Any]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.request(
        method, f"{world.control_url}{path}", json=body
    ) as response:
        return response.status, await response.json()


def station_source(world: World, station: str, **overrides: Any) -> dict[str, Any]:
    """The demo config's source for `station`, pointed at the test simulator."""
    import yaml

    sources = yaml.safe_load((CONF_DIR / "30-pumps.yaml").read_text())["sources"]
    source = next(s for s in sources if s["station"]["id"] == station)
    source = {**source, "port": world.port(station), "request_timeout": "1s", "timeout": "5s"}
    source.update(overrides)
    return source
