"""Vendor profiles with points of their own metrics, against a real pymodbus TCP server.

The simulator's station gets extra unit ids whose registers hold what a Grundfos MAGNA3,
an Eastron SDM630 and a Schneider ATV312 would send for known physical values (encoded
with the vendor's scaling by hand here, not by the profile), and the shipped profiles must
read those values back in base units.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import sitroom_pumps
from sitroom.api import SourceHarness
from sitroom_pumps.datatypes import encode
from sitroom_pumps.simulator import World
from sitroom_pumps.simulator.registers import Unit

from .conftest import CONF_DIR

MAGNA, METER, DRIVE = 21, 22, 23


def magna3_registers(unit: Unit) -> None:
    """A MAGNA3 running at 0.452 bar head, 3.7 m3/h, 2890 rpm, 48 W, liquid at 60.25 C."""
    status = (1 << 6) | (1 << 11)  # rotating, a warning, no alarm
    unit.put("input", 200, [status])
    unit.put("input", 204, [0, 19])  # alarm code none, warning code 19
    unit.put("input", 300, [452, 37, 4150, 2890, 512])  # head, flow, perf, rpm, 51.2 Hz
    unit.put("input", 307, [5500, 3, 2301, 2298])  # setpoint 55%, 0.3 A, 230.1 V, 229.8 V
    unit.put("input", 311, encode(70000, "u32"))  # 70 kW: proves the high word is read
    unit.put("input", 317, [0])  # power electronics: 0 K = not available
    unit.put("input", 320, [31815, 33340])  # electronics 45.0 C, liquid 60.25 C
    unit.put("input", 325, [13])  # 13 Wh/m3
    unit.put("input", 326, encode(12345, "u32") + encode(20000, "u32"))  # run, powered h
    unit.put("input", 331, encode(987654, "u32") + encode(4321, "u32"))  # kWh, starts
    unit.put("input", 337, [6000, 398])  # user setpoint 60%, diff. pressure 0.398 bar
    unit.put("input", 351, encode(5500, "u32") + encode(2500, "u32") + [520])
    unit.put("input", 356, encode(123456789, "u32"))  # 1234567.89 m3
    unit.put("input", 360, [0xFFFF, 0xFFFF])  # volume 2 not available


def meter_registers(unit: Unit) -> None:
    values = {0: 231.5, 2: 229.0, 4: 233.25, 6: 12.5, 8: 11.0, 10: 13.75,
              12: 2800.0, 14: 2400.0, 16: 3000.0, 52: 8200.0, 62: -0.92, 70: 50.02,
              72: 123456.5, 74: 0.0}
    for address, value in values.items():
        unit.put("input", address, encode(value, "f32"))


def drive_registers(unit: Unit) -> None:
    unit.put("holding", 3201, [0b0111, (-425) & 0xFFFF, 0, 184])  # enabled, -42.5 Hz, 18.4 A
    unit.put("holding", 3209, [112])  # 112 % thermal state
    unit.put("holding", 8606, [0])


@pytest.fixture
async def vendor_world(world: World) -> World:
    devices = world.stations["kali-semarang"].devices
    for unit_id, fill in ((MAGNA, magna3_registers), (METER, meter_registers),
                          (DRIVE, drive_registers)):
        devices.units[unit_id] = Unit(size=10000)
        fill(devices.units[unit_id])
    return world


def source(world: World, **extra: Any) -> dict[str, Any]:
    return {"kind": "modbus_pump_station", "name": "rp-vendor", "host": "127.0.0.1",
            "port": world.port("kali-semarang"), "request_timeout": "1s", "timeout": "10s",
            "station": {"id": "vendor"},
            "devices": [
                {"unit": MAGNA, "profile": "profiles/grundfos-magna3.yaml", "pumps": ["M1"]},
                {"unit": METER, "profile": "profiles/eastron-sdm630.yaml"},
                {"unit": DRIVE, "profile": "profiles/schneider-altivar-312.yaml",
                 "pumps": ["D1"]},
            ], **extra}


def approx(actual: float | None, expected: float, rel: float = 1e-6) -> bool:
    return actual is not None and math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-9)


async def test_magna3_profile_decodes_every_register_in_base_units(vendor_world):
    async with SourceHarness.from_plugin(sitroom_pumps, source(vendor_world),
                                         base_dir=CONF_DIR) as h:
        await h.collect()
        m1 = {"station": "vendor", "pump": "M1"}
        assert h.value("sitroom_pump_running", **m1) == 1
        assert h.value("sitroom_pump_fault", **m1) == 0
        assert h.value("sitroom_pump_fault_code", **m1) == 0
        assert h.value("sitroom_modbus_pump_warning", **m1) == 1
        assert h.value("sitroom_modbus_pump_warning_code", **m1) == 19
        assert approx(h.value("sitroom_modbus_pump_head_pascals", **m1), 45200.0)
        assert approx(h.value("sitroom_pump_flow_cubic_meters_per_second", **m1), 3.7 / 3600)
        assert approx(h.value("sitroom_modbus_pump_relative_performance_ratio", **m1), 0.415)
        assert approx(h.value("sitroom_modbus_pump_motor_speed_hertz", **m1), 2890 / 60)
        assert approx(h.value("sitroom_pump_speed_hertz", **m1), 51.2)
        assert approx(h.value("sitroom_modbus_pump_setpoint_ratio", setpoint="actual", **m1),
                      0.55)
        assert approx(h.value("sitroom_modbus_pump_setpoint_ratio", setpoint="user", **m1),
                      0.60)
        assert approx(h.value("sitroom_pump_motor_current_amperes", **m1), 0.3)
        assert approx(h.value("sitroom_modbus_pump_voltage_volts", circuit="dc_link", **m1),
                      230.1)
        assert approx(h.value("sitroom_modbus_pump_voltage_volts", circuit="motor", **m1),
                      229.8)
        assert h.value("sitroom_modbus_pump_power_watts", **m1) == 70000
        assert approx(h.value("sitroom_modbus_pump_temperature_celsius", sensor="electronics",
                              **m1), 45.0)
        assert approx(h.value("sitroom_modbus_pump_temperature_celsius", sensor="liquid",
                              **m1), 60.25)
        # 0 K is Grundfos' "not available": no series, the point is down, nothing else lost
        assert h.value("sitroom_modbus_pump_temperature_celsius",
                       sensor="power_electronics", **m1) is None
        assert h.value("sitroom_pump_point_up", station="vendor",
                       point="M1.pump_temperature_celsius.power_electronics") == 0
        assert h.value("sitroom_pump_point_up", station="vendor",
                       point="M1.pump_temperature_celsius.liquid") == 1
        assert approx(h.value(
            "sitroom_modbus_pump_specific_energy_joules_per_cubic_meter", **m1), 13 * 3600)
        assert h.value("sitroom_pump_run_time_seconds_total", **m1) == 12345 * 3600
        assert h.value("sitroom_modbus_pump_powered_time_seconds_total", **m1) == 20000 * 3600
        assert h.value("sitroom_modbus_pump_energy_joules_total", **m1) == 987654 * 3.6e6
        assert h.value("sitroom_pump_starts_total", **m1) == 4321
        assert approx(h.value("sitroom_modbus_pump_differential_pressure_pascals", **m1),
                      39800.0)
        assert h.value("sitroom_modbus_pump_heat_energy_joules_total", **m1) == 5500 * 3.6e6
        assert h.value("sitroom_modbus_pump_heat_power_watts", **m1) == 2500
        assert approx(h.value("sitroom_modbus_pump_heat_differential_temperature_celsius",
                              **m1), 5.2)
        assert approx(h.value("sitroom_modbus_pump_volume_cubic_meters_total", meter="1",
                              **m1), 1234567.89)
        assert h.value("sitroom_modbus_pump_volume_cubic_meters_total", meter="2",
                       **m1) is None


async def test_meter_and_drive_profiles_decode(vendor_world):
    async with SourceHarness.from_plugin(sitroom_pumps, source(vendor_world),
                                         base_dir=CONF_DIR) as h:
        await h.collect()
        st = {"station": "vendor"}
        assert approx(h.value("sitroom_modbus_meter_voltage_volts", phase="L3", **st), 233.25)
        assert approx(h.value("sitroom_modbus_meter_current_amperes", phase="L2", **st), 11.0)
        assert approx(h.value("sitroom_modbus_meter_power_watts", phase="total", **st), 8200)
        assert approx(h.value("sitroom_modbus_meter_power_factor", **st), -0.92, 1e-6)
        assert approx(h.value("sitroom_modbus_meter_frequency_hertz", **st), 50.02, 1e-6)
        assert approx(h.value("sitroom_modbus_meter_energy_joules_total", direction="import",
                              **st), 123456.5 * 3.6e6, 1e-6)
        d1 = {**st, "pump": "D1"}
        assert h.value("sitroom_pump_running", **d1) == 1
        assert h.value("sitroom_pump_fault", **d1) == 0
        assert approx(h.value("sitroom_pump_speed_hertz", **d1), -42.5)
        assert approx(h.value("sitroom_pump_motor_current_amperes", **d1), 18.4)
        assert approx(h.value("sitroom_modbus_drive_thermal_state_ratio", **d1), 1.12)


def point(**metric: Any) -> dict[str, Any]:
    base = {"name": "sitroom_modbus_x_pascals", "help": "x", "unit": "pascals"}
    return {"metric": {**base, **metric}, "address": 0, "unit": "bar"}


@pytest.mark.parametrize(("points", "message"), [
    ([point(name="sitroom_pump_head_pascals")], "sitroom_modbus_"),
    ([point(unit="psi")], "not a base unit"),
    ([{**point(), "unit": "W"}], "does not fit metric"),
    ([{"metric": point()["metric"], "address": 0}], "say the point's unit"),
    ([point(type="counter")], "_total"),
    ([point(labels={"pump": "x"})], "reserved"),
    ([point(labels={"sensor": "a b"})], "label value"),
    ([point(), point()], "mapped twice"),
    ([point(labels={"s": "a"}), point(help="other", labels={"s": "b"})], "defined twice"),
    ([{**point(), "role": "flow"}], "exactly one of 'role' or 'metric'"),
])
def test_bad_point_metrics_are_refused_with_the_reason(points, message):
    from pydantic import ValidationError

    from sitroom_pumps.registermap import RegisterMap

    with pytest.raises(ValidationError) as excinfo:
        RegisterMap.model_validate({"station": points})
    assert message in str(excinfo.value)

