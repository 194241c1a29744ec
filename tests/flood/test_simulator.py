"""The flood simulator: its physics, and the demo city's MQTT path end to end.

The MQTT test reads the mqtt_sensors source straight out of conf.d/40-flood.yaml (only the
port and client id changed), so the demo config and the simulator cannot drift apart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
import yaml

from sitroom_flood import metrics as m
from sitroom_flood.simulator import FloodSimulator, FloodSimulatorConfig, run_flood_simulator
from sitroom_flood.simulator.model import DEMO_NETWORK, Scenario
from tests.support import free_port, require_tool

from .conftest import supervised

DEMO = Path(__file__).parents[2] / "conf.d" / "40-flood.yaml"


def test_storms_raise_rivers_and_they_drain_back():
    scenario = Scenario(time_scale=1.0, seed=11)
    river = scenario.by_id["bkb-simongan"]
    peak, rained = river.base, 0.0
    for _ in range(48 * 60):  # two simulated days, minute steps
        scenario.advance(60.0)
        rained = max(rained, scenario.rain_rate(scenario.by_id["arr-gunungpati"]))
        peak = max(peak, scenario.levels[river.id])
    assert rained > 0 and peak > river.base + 0.3
    scenario.storms.clear()
    scenario._next_storm = float("inf")
    for _ in range(24 * 60):
        scenario.advance(60.0)
    assert scenario.levels[river.id] == pytest.approx(river.base, abs=0.05)


def test_tide_swings_around_its_mean():
    scenario = Scenario(time_scale=1.0)
    gauge = scenario.by_id["tide-tanjungmas"]
    levels = []
    for _ in range(13 * 6):  # 13 hours in 10-minute steps
        scenario.advance(600.0)
        levels.append(scenario.tide(gauge))
    assert max(levels) > gauge.base + gauge.amplitude / 2
    assert min(levels) < gauge.base - gauge.amplitude / 2


def test_dropout_sensor_goes_silent_for_part_of_each_cycle():
    config = FloodSimulatorConfig(dropout_sensor="babon-pucanggading", dropout_every=100,
                                  dropout_for=30, control_port=0)
    simulator = FloodSimulator(config)
    t0 = simulator.started
    assert not simulator.silent("babon-pucanggading", t0 + 10)
    assert simulator.silent("babon-pucanggading", t0 + 80)
    assert not simulator.silent("bkb-simongan", t0 + 80)
    ids = {r.sensor.id for r in simulator.tick(t0 + 80)[0]}
    assert "babon-pucanggading" not in ids and len(ids) == len(DEMO_NETWORK) - 1


def test_simulator_config_refuses_non_loopback_peers():
    with pytest.raises(ValueError, match="loopback"):
        FloodSimulatorConfig(mqtt_host="10.1.2.3")
    with pytest.raises(ValueError, match="loopback"):
        FloodSimulatorConfig(daemon_url="http://example.org:9750")
    with pytest.raises(ValueError, match="unknown demo sensor"):
        FloodSimulatorConfig(sensors=["bkb-simongan", "nope"])


@pytest.mark.integration
async def test_demo_city_over_mqtt_with_garbage_and_control(tmp_path):
    require_tool("mosquitto")
    mqtt_port, control = free_port(), free_port()
    demo = yaml.safe_load(DEMO.read_text())
    source = next(s for s in demo["sources"] if s["kind"] == "mqtt_sensors")
    source.update(port=mqtt_port, client_id=f"test-demo-{mqtt_port}")
    config = FloodSimulatorConfig(transport="mqtt", mqtt_port=mqtt_port, control_port=control,
                                  interval=0.2, garbage_ratio=0.2, dropout_sensor=None)
    task = asyncio.create_task(run_flood_simulator(config))
    try:
        async with supervised(source) as src:
            every = [s.id for s in DEMO_NETWORK]
            await src.until(lambda: all(src.value(m.LAST_SEEN, sensor=s) for s in every)
                            and sum(src.metrics.samples(m.REJECTED).values()) >= 3,
                            within=30, what="every demo sensor and some garbage")
            restarts = src.restarts()  # the source may have dialled before the broker was up
            async with aiohttp.ClientSession() as session, session.post(
                    f"http://127.0.0.1:{control}/set",
                    params={"sensor": "arr-gunungpati", "rain_rate": "80"}) as resp:
                assert resp.status == 200
            await src.until(lambda: src.value(m.ALERT_LEVEL, sensor="arr-gunungpati") == 3,
                            what="pinned rain storm")
            assert src.state == "ok" and src.restarts() == restarts  # garbage never drops us
            reasons = {reason for (_, reason) in src.metrics.samples(m.REJECTED)}
            assert reasons <= {"malformed", "not_finite", "wrong_type", "unknown_sensor",
                               "future_timestamp"}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
