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
    metric: str
    shape: Shape = "number"
    dimension: str = ""  # key into UNITS; "" = dimensionless (codes, counts, booleans)


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role("running", "pump", "sitroom_pump_running", "bool"),
        Role("fault", "pump", "sitroom_pump_fault", "bool"),
        Role("fault_code", "pump", "sitroom_pump_fault_code"),
        Role("current", "pump", "sitroom_pump_motor_current_amperes", dimension="current"),
        Role("speed", "pump", "sitroom_pump_speed_hertz", dimension="frequency"),
        Role("flow", "pump", "sitroom_pump_flow_cubic_meters_per_second", dimension="flow"),
        Role("run_time", "pump", "sitroom_pump_run_time_seconds_total", dimension="time"),
        Role("starts", "pump", "sitroom_pump_starts_total"),
        Role("sump_level", "station", "sitroom_pump_station_sump_level_meters",
             dimension="length"),
        Role("river_level", "station", "sitroom_pump_station_river_level_meters",
             dimension="length"),
        Role("power_available", "station", "sitroom_pump_station_power_available", "bool"),
        Role("genset_running", "station", "sitroom_pump_station_genset_running", "bool"),
        Role("fuel_level", "station", "sitroom_pump_station_fuel_level_ratio",
             dimension="ratio"),
        Role("device_model", "station", "sitroom_pump_device_info", "string"),
        Role("device_firmware", "station", "sitroom_pump_device_info", "string"),
    )
}

# Units a map may state for a point, per dimension, with the factor to the base unit.
UNITS: dict[str, dict[str, float]] = {
    "length": {"m": 1.0, "cm": 0.01, "mm": 0.001},
    "flow": {"m3/s": 1.0, "m3/h": 1 / 3600, "l/s": 0.001, "l/min": 1 / 60000},
    "time": {"s": 1.0, "min": 60.0, "h": 3600.0},
    "ratio": {"ratio": 1.0, "%": 0.01},
    "current": {"A": 1.0, "mA": 0.001},
    "frequency": {"Hz": 1.0},
}

METRICS = (
    MetricSpec("sitroom_pump_running", "gauge", "1 while the pump runs.", PUMP),
    MetricSpec("sitroom_pump_fault", "gauge", "1 while the pump reports a fault.", PUMP),
    MetricSpec(
        "sitroom_pump_fault_code", "gauge",
        "Vendor fault code of the pump or its drive (0 = none); see the profile.", PUMP,
    ),
    MetricSpec("sitroom_pump_motor_current_amperes", "gauge", "Motor current.", PUMP,
               unit="amperes"),
    MetricSpec("sitroom_pump_speed_hertz", "gauge", "Drive output frequency.", PUMP,
               unit="hertz"),
    MetricSpec("sitroom_pump_flow_cubic_meters_per_second", "gauge", "Pumped flow.", PUMP,
               unit="cubic_meters_per_second"),
    MetricSpec("sitroom_pump_run_time_seconds_total", "counter",
               "Running time as counted by the device.", PUMP, unit="seconds"),
    MetricSpec("sitroom_pump_starts_total", "counter", "Starts as counted by the device.", PUMP),
    MetricSpec("sitroom_pump_station_sump_level_meters", "gauge",
               "Water level in the sump (wet well) above its floor.", STATION, unit="meters"),
    MetricSpec("sitroom_pump_station_river_level_meters", "gauge",
               "Level of the river or outfall the station pumps into, against the "
               "station's datum.", STATION, unit="meters"),
    MetricSpec("sitroom_pump_station_power_available", "gauge",
               "1 while mains (PLN) power is available.", STATION),
    MetricSpec("sitroom_pump_station_genset_running", "gauge",
               "1 while the standby generator runs.", STATION),
    MetricSpec("sitroom_pump_station_fuel_level_ratio", "gauge",
               "Generator fuel tank level, 0..1.", STATION, unit="ratio"),
    MetricSpec("sitroom_pump_station_info", "info",
               "Where a pump station is (value 1); join on station.",
               ("station", "station_name", "district", "latitude", "longitude", "river")),
    MetricSpec("sitroom_pump_device_info", "info",
               "Model and firmware a station's Modbus device reports (value 1).",
               ("station", "unit", "model", "firmware")),
    MetricSpec("sitroom_pump_station_device_up", "gauge",
               "1 if the last poll got a valid answer from this Modbus unit id.",
               ("station", "unit")),
    MetricSpec("sitroom_pump_point_up", "gauge",
               "1 if the point's last read gave a valid value.", ("station", "point")),
    MetricSpec("sitroom_pump_point_read_failures_total", "counter",
               "Reads of a point that gave no valid value, by reason "
               "(exception, timeout, connection, bad_value).",
               ("station", "point", "reason")),
    MetricSpec("sitroom_pump_station_modbus_requests_total", "counter",
               "Modbus read requests sent (after merging points into ranges).",
               ("station", "function")),
    MetricSpec("sitroom_pump_station_modbus_errors_total", "counter",
               "Failed Modbus requests by unit id and reason (exception name, timeout, "
               "connection).", ("station", "unit", "reason")),
    MetricSpec("sitroom_pump_station_modbus_request_duration_seconds", "histogram",
               "Round trip of one Modbus request.", STATION, unit="seconds",
               buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)),
    MetricSpec("sitroom_pump_station_connects_total", "counter",
               "TCP connections opened to the station gateway (reconnects show as rate).",
               STATION),
)
