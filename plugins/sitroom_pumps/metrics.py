"""What a register can mean (its role) and the metric families those meanings feed.

A register map names a role (`sump_level`, `current`, ...) rather than a metric, so that
profiles stay readable for the engineers who write them from a vendor manual, and so the
plugin alone decides names, base units and label sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sitroom.api import MetricSpec

Scope = Literal["station", "pump"]
Shape = Literal["bool", "number", "string"]

STATION = ("station",)
PUMP = ("station", "pump")


@dataclass(frozen=True)
class Role:
    """One meaning a point can have: where it belongs and how its value is shaped."""

    name: str
    scope: Scope
    metric: MetricSpec
    shape: Shape = "number"
    dimension: str = ""  # key into UNITS; "" = dimensionless (codes, counts, booleans)


# Units a map may state for a point, per dimension, with the factor to the base unit.
UNITS: dict[str, dict[str, float]] = {
    "length": {"m": 1.0, "cm": 0.01, "mm": 0.001},
    "flow": {"m3/s": 1.0, "m3/h": 1 / 3600, "l/s": 0.001, "l/min": 1 / 60000},
    "time": {"s": 1.0, "min": 60.0, "h": 3600.0},
    "ratio": {"ratio": 1.0, "%": 0.01},
    "current": {"A": 1.0, "mA": 0.001},
    "frequency": {"Hz": 1.0},
    # dimensions only a point's own metric (not a role) can have
    "pressure": {"Pa": 1.0, "kPa": 1e3, "bar": 1e5, "mbar": 100.0, "psi": 6894.757293168},
    "temperature": {"C": 1.0, "K": 1.0, "F": 5 / 9},
    "power": {"W": 1.0, "kW": 1e3, "MW": 1e6},
    "energy": {"J": 1.0, "Wh": 3600.0, "kWh": 3.6e6, "MWh": 3.6e9},
    "voltage": {"V": 1.0, "mV": 0.001, "kV": 1e3},
    "volume": {"m3": 1.0, "l": 0.001},
    "specific_energy": {"J/m3": 1.0, "Wh/m3": 3600.0, "kWh/m3": 3.6e6},
}
# Units whose zero is not the base unit's zero: base = value * factor + shift.
UNIT_SHIFTS: dict[str, float] = {"K": -273.15, "F": -32 * 5 / 9}

# The base unit a point's own metric states (it must appear in the metric name), and the
# device units a map may convert into it. Rotational speed is in hertz (revolutions per
# second), so a motor's rpm arrives divided by 60, as Prometheus' base units want.
BASE_UNITS: dict[str, dict[str, float]] = {
    "meters": UNITS["length"],
    "cubic_meters_per_second": UNITS["flow"],
    "seconds": UNITS["time"],
    "ratio": UNITS["ratio"],
    "amperes": UNITS["current"],
    "hertz": {**UNITS["frequency"], "rpm": 1 / 60},
    "pascals": UNITS["pressure"],
    "celsius": UNITS["temperature"],
    "watts": UNITS["power"],
    "joules": UNITS["energy"],
    "volts": UNITS["voltage"],
    "cubic_meters": UNITS["volume"],
    "joules_per_cubic_meter": UNITS["specific_energy"],
}

RUNNING = MetricSpec("sitroom_pump_running", "gauge", "1 while the pump runs.", PUMP)
FAULT = MetricSpec("sitroom_pump_fault", "gauge", "1 while the pump reports a fault.", PUMP)
FAULT_CODE = MetricSpec(
    "sitroom_pump_fault_code",
    "gauge",
    "Vendor fault code of the pump or its drive (0 = none); see the profile.",
    PUMP,
)
MOTOR_CURRENT = MetricSpec(
    "sitroom_pump_motor_current_amperes", "gauge", "Motor current.", PUMP, unit="amperes"
)
SPEED = MetricSpec(
    "sitroom_pump_speed_hertz", "gauge", "Drive output frequency.", PUMP, unit="hertz"
)
FLOW = MetricSpec(
    "sitroom_pump_flow_cubic_meters_per_second",
    "gauge",
    "Pumped flow.",
    PUMP,
    unit="cubic_meters_per_second",
)
RUN_TIME = MetricSpec(
    "sitroom_pump_run_time_seconds_total",
    "counter",
    "Running time as counted by the device.",
    PUMP,
    unit="seconds",
)
STARTS = MetricSpec(
    "sitroom_pump_starts_total", "counter", "Starts as counted by the device.", PUMP
)
SUMP_LEVEL = MetricSpec(
    "sitroom_pump_station_sump_level_meters",
    "gauge",
    "Water level in the sump (wet well) above its floor.",
    STATION,
    unit="meters",
)
RIVER_LEVEL = MetricSpec(
    "sitroom_pump_station_river_level_meters",
    "gauge",
    "Level of the river or outfall the station pumps into, against the station's datum.",
    STATION,
    unit="meters",
)
POWER_AVAILABLE = MetricSpec(
    "sitroom_pump_station_power_available",
    "gauge",
    "1 while mains (PLN) power is available.",
    STATION,
)
GENSET_RUNNING = MetricSpec(
    "sitroom_pump_station_genset_running", "gauge", "1 while the standby generator runs.", STATION
)
FUEL_LEVEL = MetricSpec(
    "sitroom_pump_station_fuel_level_ratio",
    "gauge",
    "Generator fuel tank level, 0..1.",
    STATION,
    unit="ratio",
)
STATION_INFO = MetricSpec(
    "sitroom_pump_station_info",
    "info",
    "Where a pump station is (value 1); join on station.",
    ("station", "station_name", "district", "latitude", "longitude", "river"),
)
DEVICE_INFO = MetricSpec(
    "sitroom_pump_device_info",
    "info",
    "Model and firmware a station's Modbus device reports (value 1).",
    ("station", "unit", "model", "firmware"),
)
DEVICE_UP = MetricSpec(
    "sitroom_pump_station_device_up",
    "gauge",
    "1 if the last poll got a valid answer from this Modbus unit id.",
    ("station", "unit"),
)
POINT_UP = MetricSpec(
    "sitroom_pump_point_up",
    "gauge",
    "1 if the point's last read gave a valid value.",
    ("station", "point"),
)
POINT_READ_FAILURES = MetricSpec(
    "sitroom_pump_point_read_failures_total",
    "counter",
    "Reads of a point that gave no valid value, by reason "
    "(exception, timeout, connection, bad_value).",
    ("station", "point", "reason"),
)
MODBUS_REQUESTS = MetricSpec(
    "sitroom_pump_station_modbus_requests_total",
    "counter",
    "Modbus read requests sent (after merging points into ranges).",
    ("station", "function"),
)
MODBUS_ERRORS = MetricSpec(
    "sitroom_pump_station_modbus_errors_total",
    "counter",
    "Failed Modbus requests by unit id and reason (exception name, timeout, connection).",
    ("station", "unit", "reason"),
)
MODBUS_REQUEST_DURATION = MetricSpec(
    "sitroom_pump_station_modbus_request_duration_seconds",
    "histogram",
    "Round trip of one Modbus request.",
    STATION,
    unit="seconds",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CONNECTS = MetricSpec(
    "sitroom_pump_station_connects_total",
    "counter",
    "TCP connections opened to the station gateway (reconnects show as rate).",
    STATION,
)
METRICS = (
    RUNNING,
    FAULT,
    FAULT_CODE,
    MOTOR_CURRENT,
    SPEED,
    FLOW,
    RUN_TIME,
    STARTS,
    SUMP_LEVEL,
    RIVER_LEVEL,
    POWER_AVAILABLE,
    GENSET_RUNNING,
    FUEL_LEVEL,
    STATION_INFO,
    DEVICE_INFO,
    DEVICE_UP,
    POINT_UP,
    POINT_READ_FAILURES,
    MODBUS_REQUESTS,
    MODBUS_ERRORS,
    MODBUS_REQUEST_DURATION,
    CONNECTS,
)

ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role("running", "pump", RUNNING, "bool"),
        Role("fault", "pump", FAULT, "bool"),
        Role("fault_code", "pump", FAULT_CODE),
        Role("current", "pump", MOTOR_CURRENT, dimension="current"),
        Role("speed", "pump", SPEED, dimension="frequency"),
        Role("flow", "pump", FLOW, dimension="flow"),
        Role("run_time", "pump", RUN_TIME, dimension="time"),
        Role("starts", "pump", STARTS),
        Role("sump_level", "station", SUMP_LEVEL, dimension="length"),
        Role("river_level", "station", RIVER_LEVEL, dimension="length"),
        Role("power_available", "station", POWER_AVAILABLE, "bool"),
        Role("genset_running", "station", GENSET_RUNNING, "bool"),
        Role("fuel_level", "station", FUEL_LEVEL, dimension="ratio"),
        Role("device_model", "station", DEVICE_INFO, "string"),
        Role("device_firmware", "station", DEVICE_INFO, "string"),
    )
}
