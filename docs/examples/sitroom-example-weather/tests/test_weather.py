"""The plugin's own tests: the harness runs one source against the simulator, no daemon."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import WeatherService

import sitroom_weather
from sitroom.api import Source, SourceError, SourceHarness, kinds_of, serving
from sitroom_weather.metrics import HUMIDITY, OBSERVED, RAIN, READINGS, TEMPERATURE
from sitroom_weather.monitoring import LAYOUT, export
from sitroom_weather.routes import weather_route
from sitroom_weather.source import parse_reading


# --8<-- [start:harness]
async def test_reads_every_station(weather_service: WeatherService, tmp_path: Path) -> None:
    (tmp_path / "weather.key").write_text(weather_service.key + "\n")
    config = {
        "kind": "weather_station",
        "name": "rooftops",
        "url": weather_service.url,
        "stations": ["simpang-lima", "tugu-muda"],
        "api_key_file": "weather.key",  # relative to base_dir, as to the config file
    }
    async with SourceHarness.from_plugin(sitroom_weather, config, base_dir=tmp_path) as h:
        await h.collect()
        for station in ("simpang-lima", "tugu-muda"):
            temperature = h.value(TEMPERATURE, station=station)  # None: never written
            humidity = h.value(HUMIDITY, station=station)
            assert temperature is not None and 25 < temperature < 35
            assert humidity is not None and 0 <= humidity <= 1
            assert h.value(READINGS, station=station) == 1
        assert "weather.key" not in repr(h.config)
        assert weather_service.key not in h.config.model_dump_json()
# --8<-- [end:harness]


async def test_failed_poll_writes_nothing_and_keeps_the_last_values(
    weather_service: WeatherService,
) -> None:
    config = {"kind": "weather_station", "name": "w", "url": weather_service.url,
              "stations": ["a", "b"], "api_key": weather_service.key}
    async with SourceHarness.from_plugin(sitroom_weather, config) as h:
        await h.collect()
        before = h.samples(RAIN)
        await weather_service.outage(True)
        with pytest.raises(SourceError) as failed:
            await h.collect()
        assert failed.value.reason == "status"
        assert h.samples(RAIN) == before  # the core, not the source, decides what is stale
        assert h.value(READINGS, station="a") == 1
        await weather_service.outage(False)
        await h.collect()
        assert h.value(READINGS, station="a") == 2


async def test_wrong_key_is_a_status_failure(weather_service: WeatherService) -> None:
    config = {"kind": "weather_station", "name": "w", "url": weather_service.url,
              "stations": ["a"], "api_key": "wrong"}
    async with SourceHarness.from_plugin(sitroom_weather, config) as h:
        with pytest.raises(SourceError, match="HTTP 401") as failed:
            await h.collect()
        assert failed.value.reason == "status"
        assert h.samples(OBSERVED) == {}


def test_junk_is_a_decode_failure() -> None:
    for body in (b"<html>", b"[]", b'{"temperature_c": "hot"}', b"{}"):
        with pytest.raises(SourceError) as failed:
            parse_reading("a", body)
        assert failed.value.reason == "decode"


def test_config_refuses_bad_input() -> None:
    kind = kinds_of(sitroom_weather)["weather_station"]
    good = {"kind": "weather_station", "name": "w", "url": "http://127.0.0.1:1/",
            "api_key": "k", "stations": ["a"]}
    kind.config_model.model_validate(good)
    bad: dict[str, Any]
    for bad in ({"stations": []}, {"url": "not a url"}, {"api_key_file": "/nonexistent/k"},
                {"colour": "blue"}):
        with pytest.raises(ValueError):
            kind.config_model.model_validate({**good, **bad})


async def test_route_serves_the_last_readings(weather_service: WeatherService) -> None:
    config = {"kind": "weather_station", "name": "w", "url": weather_service.url,
              "stations": ["a"], "api_key": weather_service.key}
    async with SourceHarness.from_plugin(sitroom_weather, config) as h:
        await h.collect()

        class Daemon:  # any object with DaemonAPI's members will do (it is a Protocol)
            config_dir = state_dir = Path(".")

            def source(self, name: str, kind: str | None = None) -> Source | None:
                return h.source if name == "w" else None

            def sources(self, kind: str | None = None) -> list[Source]:
                return [h.source]

        route = weather_route(Daemon())
        app = aiohttp.web.Application()
        app.router.add_route(route.method, route.path, route.handler)
        async with serving(app, "127.0.0.1", 0) as port, aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/api/v1/weather/w") as response:
                body = await response.json()
            async with session.get(f"http://127.0.0.1:{port}/api/v1/weather/x") as missing:
                assert missing.status == 404
        assert route.auth
        assert [r["station"] for r in body["readings"]] == ["a"]
        assert body["readings"][0]["temperature_celsius"] == h.value(TEMPERATURE, station="a")


def test_shipped_monitoring_matches_the_metrics(tmp_path: Path) -> None:
    assert export(tmp_path) == 0
    declared = {spec.name for spec in sitroom_weather.METRICS}
    rules = (tmp_path / "rules/weather.rules.yml").read_text()
    board = json.loads((tmp_path / "dashboards/weather.json").read_text())
    runbook = (tmp_path / "runbooks/weather.md").read_text()
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    for text in [rules, *exprs]:
        for name in set(re.findall(r"sitroom_weather_[a-z_]+", text)):
            assert name in declared, name
    for alert in ("WeatherStationSilent", "WeatherHeavyRain"):
        assert f"runbooks/weather.md#{alert.lower()}" in rules
        assert f"## {alert}\n" in runbook
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")) == sorted(
        LAYOUT.values())


def test_promtool_checks_and_unit_tests_pass(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: prometheus)")
    export(tmp_path)
    rules = tmp_path / "rules"
    for args in (["check", "rules", "weather.rules.yml"], ["test", "rules", "weather_test.yml"]):
        result = subprocess.run([promtool, *args], cwd=rules, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
