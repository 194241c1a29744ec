"""The source against the simulator over real loopback TCP: decoding, merging, failures."""

from __future__ import annotations

import asyncio
import math
import random
import struct
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient

import sitroom_pumps
from sitroom.api import SourceError
from sitroom.testing import SourceHarness
from sitroom_pumps.simulator import World

from .conftest import CONF_DIR, acontrol, station_source
from .test_datatypes import CASES, registers_of

ORDERS = [("big", "big"), ("big", "little"), ("little", "big"), ("little", "little")]


def harness(config: dict[str, Any]) -> SourceHarness:
    return SourceHarness.from_plugin(sitroom_pumps, config, base_dir=CONF_DIR)


def inline_source(world: World, station: str, devices: list[dict[str, Any]],
                  **extra: Any) -> dict[str, Any]:
    return {"kind": "modbus_pump_station", "name": "rp-test", "host": "127.0.0.1",
            "port": world.port(station), "request_timeout": "1s", "timeout": "10s",
            "station": {"id": "test"}, "devices": devices, **extra}


def pump_device(pump: str, point: dict[str, Any], unit: int = 1) -> dict[str, Any]:
    return {"unit": unit, "map": {"pump": {"points": [point]}}, "pumps": [pump]}


async def write_holding(port: int, address: int, values: list[int], unit: int = 1) -> None:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0,
                                  reconnect_delay=0)
    assert await client.connect()
    try:
        for offset in range(0, len(values), 100):
            chunk = values[offset : offset + 100]
            response = await client.write_registers(address + offset, chunk, device_id=unit)
            assert not response.isError()
    finally:
        client.close()


async def write_coils(port: int, address: int, values: list[bool], unit: int = 1) -> None:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0,
                                  reconnect_delay=0)
    assert await client.connect()
    try:
        assert not (await client.write_coils(address, values, device_id=unit)).isError()
    finally:
        client.close()


async def test_every_type_and_order_decodes_what_the_test_wrote(world):
    """Values written over Modbus (holding, coils) and poked (input, discrete), laid out
    with struct independently of the plugin's codec, come back as written."""
    port = world.port("mberok")
    devices: list[dict[str, Any]] = []
    expected: dict[str, float] = {}
    address = 1000
    holding: dict[int, int] = {}
    for data_type, fmt, value in CASES:
        for byte_order, word_order in ORDERS:
            pump = f"T{len(expected)}"
            for offset, word in enumerate(registers_of(fmt, value, byte_order, word_order)):
                holding[address + offset] = word
            devices.append(pump_device(pump, {
                "role": "current", "address": address, "type": data_type,
                "byte_order": byte_order, "word_order": word_order}))
            expected[pump] = struct.unpack(fmt, struct.pack(fmt, value))[0]
            address += struct.calcsize(fmt) // 2
    # bits of a status word: 0x0100 has bit 8 set as sent, bit 0 once bytes are swapped
    holding[address] = 0x0100
    bits = {"B0": ("big", 8, 1.0), "B1": ("big", 0, 0.0), "B2": ("little", 0, 1.0),
            "B3": ("little", 8, 0.0)}
    for pump, (byte_order, bit, _) in bits.items():
        devices.append(pump_device(pump, {"role": "running", "address": address, "type": "bit",
                                          "bit": bit, "byte_order": byte_order}))
    # strings: big and little byte order in one identification block
    for offset, pair in enumerate((b"AB", b"-1", b"2\x00", b"\x00\x00")):
        holding[address + 1 + offset] = int.from_bytes(pair, "big")
    for offset, pair in enumerate((b"v9", b".8")):
        holding[address + 5 + offset] = int.from_bytes(pair[::-1], "big")
    devices.append({"unit": 1, "map": {"station": [
        {"role": "device_model", "address": address + 1, "type": "string", "length": 4},
        {"role": "device_firmware", "address": address + 5, "type": "string", "length": 2,
         "byte_order": "little"}]}})
    start = min(holding)
    await write_holding(port, start, [holding.get(a, 0) for a in range(start, max(holding) + 1)])
    # coils over Modbus, discrete inputs and input registers poked through the control API
    await write_coils(port, 1000, [True, False])
    status, _ = await acontrol(world, "POST", "/poke", {
        "station": "mberok", "unit": 1, "table": "discrete_input", "address": 1000,
        "values": [0, 1]})
    assert status == 200
    i32_words = registers_of(">i", -77777, "little", "little")
    status, _ = await acontrol(world, "POST", "/poke", {
        "station": "mberok", "unit": 1, "table": "input", "address": 1000, "values": i32_words})
    assert status == 200
    devices += [
        pump_device("C0", {"role": "running", "function": "coil", "address": 1000,
                           "type": "bool"}),
        pump_device("C1", {"role": "running", "function": "coil", "address": 1001,
                           "type": "bool"}),
        pump_device("D0", {"role": "fault", "function": "discrete_input", "address": 1000,
                           "type": "bool"}),
        pump_device("D1", {"role": "fault", "function": "discrete_input", "address": 1001,
                           "type": "bool"}),
        pump_device("I0", {"role": "current", "function": "input", "address": 1000,
                           "type": "i32", "byte_order": "little", "word_order": "little"}),
    ]
    async with harness(inline_source(world, "mberok", devices)) as h:
        await h.collect()
        for pump, value in expected.items():
            assert h.value("sitroom_pump_motor_current_amperes", station="test",
                           pump=pump) == value, pump
        for pump, (_, _, value) in bits.items():
            assert h.value("sitroom_pump_running", station="test", pump=pump) == value, pump
        assert h.value("sitroom_pump_running", station="test", pump="C0") == 1
        assert h.value("sitroom_pump_running", station="test", pump="C1") == 0
        assert h.value("sitroom_pump_fault", station="test", pump="D0") == 0
        assert h.value("sitroom_pump_fault", station="test", pump="D1") == 1
        assert h.value("sitroom_pump_motor_current_amperes", station="test", pump="I0") == -77777
        assert h.value("sitroom_pump_device_info", station="test", unit=1, model="AB-12",
                       firmware="v9.8") == 1
        # everything on one unit: one read per function (all ranges are contiguous)
        requests = h.samples("sitroom_pump_station_modbus_requests_total")
        assert requests == {("test", "holding"): 1, ("test", "coil"): 1,
                            ("test", "discrete_input"): 1, ("test", "input"): 1}


async def test_contiguous_points_are_read_in_merged_ranges(world):
    port = world.port("mberok")
    values = [random.Random(1).randrange(0, 65536) for _ in range(130)]
    await write_holding(port, 2000, values)
    config = inline_source(world, "mberok", [{
        "unit": 1, "pumps": [f"P{i}" for i in range(130)],
        "map": {"pump": {"stride": 1, "points": [{"role": "current", "address": 2000}]}}}])
    before = world.stations["mberok"].devices.requests["holding"]
    async with harness(config) as h:
        await h.collect()
        assert world.stations["mberok"].devices.requests["holding"] - before == 2  # 125 + 5
        assert h.value("sitroom_pump_station_modbus_requests_total", station="test",
                       function="holding") == 2
        got = [h.value("sitroom_pump_motor_current_amperes", station="test", pump=f"P{i}")
               for i in range(130)]
        assert got == values
    before = world.stations["mberok"].devices.requests["holding"]
    async with harness({**config, "max_registers_per_read": 10}) as h:
        await h.collect()
        assert world.stations["mberok"].devices.requests["holding"] - before == 13


def close(actual: float | None, expected: float, tolerance: float) -> bool:
    return actual is not None and abs(actual - expected) <= tolerance


async def test_shipped_profiles_read_what_the_simulator_simulates(world):
    """The demo profiles against the simulator's firmware layout, after a storm."""
    world.rain = 80.0
    for _ in range(30):
        world.step(20.0)
    state = world.snapshot()["stations"]["kali-semarang"]
    assert any(p["running"] for p in state["pumps"]), "the storm should start pumps"
    async with harness(station_source(world, "kali-semarang")) as h:
        await h.collect()
        labels = {"station": "kali-semarang"}
        assert close(h.value("sitroom_pump_station_sump_level_meters", **labels),
                     state["sump_level_m"], 0.006)
        assert close(h.value("sitroom_pump_station_river_level_meters", **labels),
                     state["river_level_m"], 0.006)
        assert h.value("sitroom_pump_station_power_available", **labels) == 1
        assert close(h.value("sitroom_pump_station_fuel_level_ratio", **labels), 1.0, 1e-9)
        assert h.value("sitroom_pump_device_info", unit=1, model="SIM-PLC PH-200",
                       firmware="2.4.1", **labels) == 1
        for pump in state["pumps"]:
            p = {**labels, "pump": pump["name"]}
            assert h.value("sitroom_pump_running", **p) == float(pump["running"])
            assert h.value("sitroom_pump_fault", **p) == 0
            assert close(h.value("sitroom_pump_motor_current_amperes", **p),
                         pump["current_amperes"], 0.06)
            assert close(h.value("sitroom_pump_flow_cubic_meters_per_second", **p),
                         pump["flow_m3s"], 1e-4)
            assert close(h.value("sitroom_pump_run_time_seconds_total", **p),
                         pump["run_seconds"], 60.0)
            assert h.value("sitroom_pump_starts_total", **p) == pump["starts"]
        p3 = {**labels, "pump": "P3"}
        assert close(h.value("sitroom_pump_speed_hertz", **p3),
                     state["pumps"][2]["speed_hz"], 0.006)
        assert h.value("sitroom_pump_station_info", station_name="Rumah Pompa Kali Semarang "
                       "(Tawang)", district="Semarang Utara", latitude="-6.964900",
                       longitude="110.426800", river="Kali Semarang", **labels) == 1


async def test_faulted_pump_shows_in_metrics_and_the_rest_stays(world):
    world.rain = 80.0
    for _ in range(30):
        world.step(20.0)
    async with harness(station_source(world, "kali-semarang")) as h:
        await h.collect()
        assert h.value("sitroom_pump_running", station="kali-semarang", pump="P1") == 1
        for pump, code in (("P1", 7), ("P3", 2310)):
            status, body = await acontrol(
                world, "POST", f"/fault?station=kali-semarang&pump={pump}&code={code}")
            assert status == 200 and body["fault_code"] == code
        world.step(1.0)
        await h.collect()
        for pump, code in (("P1", 7), ("P3", 2310)):
            labels = {"station": "kali-semarang", "pump": pump}
            assert h.value("sitroom_pump_fault", **labels) == 1
            assert h.value("sitroom_pump_fault_code", **labels) == code
            assert h.value("sitroom_pump_running", **labels) == 0
        assert h.value("sitroom_pump_fault", station="kali-semarang", pump="P2") == 0
        await acontrol(world, "POST", "/fault?station=kali-semarang&pump=P1&code=0")
        world.step(1.0)
        await h.collect()
        assert h.value("sitroom_pump_fault", station="kali-semarang", pump="P1") == 0


async def test_dead_station_fails_then_recovers_when_the_server_returns(world):
    async with harness(station_source(world, "mberok")) as h:
        await h.collect()
        labels = {"station": "mberok"}
        assert h.value("sitroom_pump_station_sump_level_meters", **labels) is not None
        status, body = await acontrol(world, "POST", "/comms?station=mberok&up=0")
        assert status == 200 and body["up"] is False
        for _ in range(2):  # the dropped connection, then a refused reconnect
            with pytest.raises(SourceError) as info:
                await h.collect()
        assert info.value.reason == "connect"
        assert h.value("sitroom_pump_station_sump_level_meters", **labels) is None
        assert h.value("sitroom_pump_running", pump="P1", **labels) is None
        assert h.value("sitroom_pump_station_device_up", unit=1, **labels) == 0
        assert h.value("sitroom_pump_point_up", point="station.sump_level", **labels) == 0
        status, body = await acontrol(world, "POST", "/comms?station=mberok&up=1")
        assert status == 200 and body["up"] is True
        await h.collect()
        assert h.value("sitroom_pump_station_sump_level_meters", **labels) is not None
        assert h.value("sitroom_pump_station_device_up", unit=1, **labels) == 1
        assert h.value("sitroom_pump_point_up", point="station.sump_level", **labels) == 1
        assert h.value("sitroom_pump_station_connects_total", **labels) == 2


async def test_slow_station_never_holds_up_another(world):
    status, _ = await acontrol(world, "POST", "/delay?station=mberok&seconds=5")
    assert status == 200
    slow_config = station_source(world, "mberok", request_timeout="300ms")
    async with harness(slow_config) as slow, harness(
            station_source(world, "kali-semarang")) as fast:
        slow_task = asyncio.create_task(slow.collect())
        await fast.collect()
        assert not slow_task.done(), "the fast station finished while the slow one waits"
        assert fast.value("sitroom_pump_station_device_up", station="kali-semarang",
                          unit=11) == 1
        with pytest.raises(SourceError) as info:
            await slow_task
        assert info.value.reason == "timeout"
        # a silent unit costs one timeout per poll, not one per planned read
        assert slow.value("sitroom_pump_station_modbus_errors_total", station="mberok",
                          unit=1, reason="timeout") == 1
        assert len(slow.source.reads) > 1
        assert slow.value("sitroom_pump_point_up", station="mberok",
                          point="P2.current") == 0


async def test_bad_register_contents_fail_only_their_points(world):
    port = world.port("mberok")
    nan = registers_of(">f", math.nan, "big", "big")
    inf = registers_of(">f", math.inf, "big", "big")
    layout = {1100: nan, 1102: inf, 1104: [0xFFFF], 1105: [5000], 1106: [0xFFFF, 0xFFFB],
              1108: [0x1B5B, 0x00FF, 0x0A07], 1111: [123]}
    registers = [w for _, words in sorted(layout.items()) for w in words]
    await write_holding(port, 1100, registers)
    station = [
        {"role": "sump_level", "address": 1104, "valid_max": 1000, "unit": "cm"},
        {"role": "fuel_level", "address": 1105, "unit": "%"},
        {"role": "river_level", "address": 1111, "unit": "cm"},
        {"role": "device_model", "address": 1108, "type": "string", "length": 3},
    ]
    pumps = {"pump": {"stride": 2, "points": [{"role": "flow", "address": 1100,
                                               "type": "f32"}]}}
    counter = {"pump": {"points": [{"role": "run_time", "address": 1106, "type": "i32"}]}}
    config = inline_source(world, "mberok", [
        {"unit": 1, "map": {"station": station}},
        {"unit": 1, "map": pumps, "pumps": ["NAN", "INF"]},
        {"unit": 1, "map": counter, "pumps": ["NEG"]},
    ])
    async with harness(config) as h:
        await h.collect()  # no exception: one good value is enough for a successful poll
        labels = {"station": "test"}
        assert h.value("sitroom_pump_station_river_level_meters", **labels) == 1.23
        for point in ("station.sump_level", "station.fuel_level", "NAN.flow", "INF.flow",
                      "NEG.run_time"):
            assert h.value("sitroom_pump_point_up", point=point, **labels) == 0, point
            assert h.value("sitroom_pump_point_read_failures_total", point=point,
                           reason="bad_value", **labels) == 1
        assert h.value("sitroom_pump_station_sump_level_meters", **labels) is None
        assert h.value("sitroom_pump_flow_cubic_meters_per_second", pump="NAN",
                       **labels) is None
        info = h.samples("sitroom_pump_device_info")
        ((key, _),) = info.items()
        assert key[2] == "[" and key[3] == "unknown"  # control bytes dropped, text kept
        assert "\n" not in h.render() .split("sitroom_pump_device_info{")[1].split("}")[0]
        await write_holding(port, 1104, [250])  # the sensor is repaired
        await h.collect()
        assert h.value("sitroom_pump_station_sump_level_meters", **labels) == 2.5
        assert h.value("sitroom_pump_point_up", point="station.sump_level", **labels) == 1


async def test_random_garbage_never_crashes_the_source(world):
    port = world.port("kali-banger")
    types = ["bit", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64"]
    devices = [pump_device(f"G{i}", {"role": "current", "address": 1000 + 4 * i,
                                     "type": t, "bit": 3 if t == "bit" else None,
                                     "word_order": "little" if i % 2 else "big"})
               for i, t in enumerate(types)]
    devices.append({"unit": 1, "map": {"station": [
        {"role": "device_model", "address": 1100, "type": "string", "length": 8},
        {"role": "fuel_level", "address": 1108, "type": "f32"}]}})
    rng = random.Random(4)
    async with harness(inline_source(world, "kali-banger", devices)) as h:
        for _ in range(15):
            await write_holding(port, 1000, [rng.randrange(65536) for _ in range(110)])
            await h.collect()
            for (_, point), up in h.samples("sitroom_pump_point_up").items():
                assert up in (0, 1), point
            for value in h.samples("sitroom_pump_motor_current_amperes").values():
                assert math.isfinite(value)
        text = h.render()
        assert "NaN" not in text.split("sitroom_pump_motor_current_amperes")[1][:2000]


async def test_exceptions_fail_their_points_and_unit_only(world):
    config = inline_source(world, "mberok", [
        {"unit": 1, "map": {"station": [{"role": "sump_level", "address": 0, "unit": "cm"}]}},
        {"unit": 1, "pumps": ["FAR"], "map": {"pump": {"points": [
            {"role": "run_time", "address": 4095, "type": "u32"}]}}},
        {"unit": 99, "pumps": ["GONE"], "map": {"pump": {"points": [
            {"role": "current", "address": 0}]}}},
    ])
    async with harness(config) as h:
        await h.collect()
        labels = {"station": "test"}
        level = world.stations["mberok"].state.level
        assert h.value("sitroom_pump_station_sump_level_meters", **labels) == round(level, 2)
        assert h.value("sitroom_pump_station_modbus_errors_total", unit=1,
                       reason="illegal_address", **labels) == 1
        assert h.value("sitroom_pump_station_modbus_errors_total", unit=99,
                       reason="gateway_target_no_response", **labels) == 1
        assert h.value("sitroom_pump_point_read_failures_total", point="FAR.run_time",
                       reason="exception", **labels) == 1
        assert h.value("sitroom_pump_station_device_up", unit=1, **labels) == 1
        assert h.value("sitroom_pump_station_device_up", unit=99, **labels) == 0
    only_bad = inline_source(world, "mberok", [config["devices"][2]])
    async with harness(only_bad) as h:
        with pytest.raises(SourceError) as info:
            await h.collect()
        assert info.value.reason == "protocol"


def test_profiles_dir_is_where_the_demo_expects_it():
    assert (CONF_DIR / "profiles" / "generic-pump-station-plc.yaml").is_file()
    assert Path(CONF_DIR / "30-pumps.yaml").is_file()


async def test_point_failure_and_recovery_are_logged_once(world):
    from structlog.testing import capture_logs

    port = world.port("mberok")
    await write_holding(port, 1200, [0x8000])  # -32768: the PLC's "sensor fault" sentinel
    config = inline_source(world, "mberok", [{"unit": 1, "map": {"station": [
        {"role": "sump_level", "address": 0, "unit": "cm"},
        {"role": "river_level", "address": 1200, "type": "i16", "valid_min": -500}]}}])
    with capture_logs() as logs:  # before the harness: its logger binds the processors
        async with harness(config) as h:
            for _ in range(3):
                await h.collect()
            await write_holding(port, 1200, [42])
            for _ in range(2):
                await h.collect()
        events = [(e["event"], e.get("point")) for e in logs if e["event"].startswith("pump_")]
        assert events == [("pump_point_failed", "station.river_level"),
                          ("pump_point_recovered", "station.river_level")]
        assert h.value("sitroom_pump_point_read_failures_total", station="test",
                       point="station.river_level", reason="bad_value") == 3


async def test_server_restart_between_polls_costs_no_failed_poll(world):
    async with harness(station_source(world, "mberok")) as h:
        await h.collect()
        await acontrol(world, "POST", "/comms?station=mberok&up=0")
        await acontrol(world, "POST", "/comms?station=mberok&up=1")
        await h.collect()  # the kept-alive connection is dead: reconnect, no error
        assert h.value("sitroom_pump_station_device_up", station="mberok", unit=1) == 1
        assert h.value("sitroom_pump_station_connects_total", station="mberok") == 2
        assert not h.samples("sitroom_pump_station_modbus_errors_total")
