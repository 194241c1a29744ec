"""The simulator's physics and control API: what the demo and the alert tests rely on."""

from __future__ import annotations

import pytest

from sitroom_pumps.simulator import PumpSimulatorConfig, World

from .conftest import acontrol, sim_config


def test_rain_fills_the_sump_and_duty_pumps_cut_in_by_level():
    world = World(sim_config())
    station = world.stations["kali-semarang"].state
    p1, p2 = station.pump("P1"), station.pump("P2")
    world.rain = 100.0
    levels, first_start = [], {}
    for step in range(200):
        world.step(10.0)
        levels.append(station.level)
        for pump in (p1, p2):
            if pump.running and pump.cfg.name not in first_start:
                first_start[pump.cfg.name] = (step, station.level)
    assert levels[5] > levels[0]
    assert first_start["P1"][0] < first_start["P2"][0]
    assert first_start["P1"][1] >= p1.cfg.start_level
    assert p1.starts == 1 and p1.flow == pytest.approx(p1.cfg.capacity)
    world.rain = 0.0  # dry weather: P1 alone cycles between its stop and start levels
    for _ in range(300):
        world.step(30.0)
    dry = []
    for _ in range(300):
        world.step(30.0)
        dry.append(station.level)
        assert not p2.running
    assert p1.starts > 2
    assert p1.cfg.stop_level - 0.05 <= min(dry) and max(dry) <= p1.cfg.start_level + 0.05


def test_fault_and_power_cut_stop_pumps_until_the_genset_takes_over():
    world = World(sim_config())
    station = world.stations["mberok"].state
    station.level = 2.5
    world.step(1.0)
    assert all(p.running for p in station.pumps)
    station.pump("P1").fault_code = 9
    world.step(1.0)
    assert not station.pump("P1").running and station.pump("P2").running
    station.mains = False
    world.step(1.0)
    assert not station.pump("P2").running and not station.genset_running
    for _ in range(int(station.cfg.genset_start_delay) + 1):
        world.step(1.0)
    assert station.genset_running and station.pump("P2").running
    assert station.fuel < 1.0
    plc = world.stations["mberok"].devices.units[1]
    assert plc.tables["discrete_input"][0:2].tolist() == [0, 1]
    assert plc.tables["holding"][10 + 1] == 9  # P1's fault code in its block


def test_vsd_ramps_speed_with_level():
    world = World(sim_config())
    station = world.stations["kali-banger"].state
    p1 = station.pump("P1")
    station.level = 1.8  # above its start level: full speed
    for _ in range(15):
        world.step(1.0)
    assert p1.speed_hz == 50.0 and p1.flow == p1.cfg.capacity
    station.level = 1.0  # between stop and start: keeps running, slower
    for _ in range(15):
        world.step(1.0)
    assert p1.running and 30.0 < p1.speed_hz < 45.0 and p1.flow < p1.cfg.capacity
    drive = world.stations["kali-banger"].devices.units[11]
    assert drive.tables["input"][1] == round(p1.speed_hz * 100)


def test_config_refuses_non_loopback_and_bad_levels():
    with pytest.raises(ValueError, match="loopback"):
        PumpSimulatorConfig(host="0.0.0.0")
    with pytest.raises(ValueError, match="stop_level"):
        PumpSimulatorConfig.model_validate({"stations": [{"id": "x", "port": 0, "pumps": [
            {"name": "P1", "start_level": 1.0, "stop_level": 2.0}]}]})


async def test_control_api_answers_mistakes_with_clear_errors(world):
    cases = [
        ("POST", "/fault?station=nowhere&pump=P1", None, 404, "unknown station"),
        ("POST", "/fault?station=mberok&pump=P9", None, 404, "unknown pump"),
        ("POST", "/fault?station=mberok&pump=P1&code=abc", None, 400, "number"),
        ("POST", "/fault?station=mberok&pump=P1&code=1.5", None, 400, "integer"),
        ("POST", "/power?station=mberok&available=maybe", None, 400, "0 or 1"),
        ("POST", "/rain?mm_per_hour=nan", None, 400, "finite"),
        ("POST", "/rain?mm_per_hour=-1", None, 400, "0..500"),
        ("POST", "/level?station=mberok&meters=99", None, 400, "within"),
        ("POST", "/delay?station=mberok", None, 400, "missing"),
        ("POST", "/poke", {"station": "mberok", "table": "holding", "address": 4095,
                           "values": [1, 2]}, 400, "outside"),
        ("POST", "/poke", {"station": "mberok", "table": "nope", "address": 0,
                           "values": [1]}, 400, "'table'"),
        ("POST", "/poke", {"station": "mberok", "table": "holding", "address": 0,
                           "values": ["x"]}, 400, "list of integers"),
        ("POST", "/poke", [1, 2], 400, "JSON object"),
    ]
    for method, path, body, status, message in cases:
        got_status, got = await acontrol(world, method, path, body)
        assert (got_status, message in got.get("error", "")) == (status, True), (path, got)


async def test_control_api_drives_the_world(world):
    status, body = await acontrol(world, "POST", "/power?station=mberok&available=0")
    assert status == 200 and body["mains"] is False
    status, body = await acontrol(world, "POST", "/rain?mm_per_hour=25")
    assert status == 200 and world.rain == 25
    status, body = await acontrol(world, "POST", "/level?station=mberok&meters=3.1")
    assert status == 200 and world.stations["mberok"].state.level == 3.1
    assert world.stations["mberok"].devices.units[1].tables["holding"][0] == 310
    status, state = await acontrol(world, "GET", "/state")
    assert status == 200 and state["stations"]["mberok"]["mains"] is False
    status, stats = await acontrol(world, "GET", "/stats")
    assert status == 200 and stats["mberok"]["up"] is True
