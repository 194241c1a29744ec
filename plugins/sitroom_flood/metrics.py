"""The metric families both flood kinds emit (one list: one ingest pipeline writes them).

Base units throughout: water level in meters, rate of rise in meters per second (multiply
by 3600 for the m/h that BPBD bulletins use), rain rate in meters per second (multiply by
3.6e6 for mm/h) and accumulated rain in meters (x1000 for mm).
"""

from __future__ import annotations

from sitroom.api import MetricSpec

S = ("sensor",)


WATER_LEVEL = MetricSpec(
    "sitroom_flood_water_level_meters",
    "gauge",
    "Water (or sea) level above the sensor's datum.",
    S,
    unit="meters",
)
RATE_OF_RISE = MetricSpec(
    "sitroom_flood_water_level_rate_of_rise_meters_per_second",
    "gauge",
    "Rate of rise of the water level, robust line fit over rate_window (x3600 = m/h).",
    S,
    unit="meters_per_second",
)
RAIN_RATE = MetricSpec(
    "sitroom_flood_rain_rate_meters_per_second",
    "gauge",
    "Rain intensity (x3.6e6 = mm/h).",
    S,
    unit="meters_per_second",
)
RAIN_TOTAL = MetricSpec(
    "sitroom_flood_rain_meters_total",
    "counter",
    "Rain depth accumulated since the daemon started (x1000 = mm).",
    S,
    unit="meters",
)
BATTERY_RATIO = MetricSpec(
    "sitroom_flood_battery_ratio", "gauge", "Battery charge, 0..1.", S, unit="ratio"
)
BATTERY_VOLTS = MetricSpec(
    "sitroom_flood_battery_volts", "gauge", "Battery voltage.", S, unit="volts"
)
SIGNAL = MetricSpec(
    "sitroom_flood_signal_strength_dbm",
    "gauge",
    "Radio signal strength reported by the sensor.",
    S,
    unit="dbm",
)
LAST_SEEN = MetricSpec(
    "sitroom_flood_sensor_last_seen_timestamp_seconds",
    "gauge",
    "Time of the newest accepted reading (kept when the sensor goes silent).",
    S,
    unit="seconds",
    keep_when_stale=True,
)
ALERT_LEVEL = MetricSpec(
    "sitroom_flood_alert_level",
    "gauge",
    "Alert level from the sensor's thresholds: 0 Normal, 1 Waspada, 2 Siaga, 3 Awas.",
    S,
)
RECEIVED = MetricSpec(
    "sitroom_flood_messages_received_total",
    "counter",
    "Messages received; sensor is empty when it could not be attributed.",
    S,
)
REJECTED = MetricSpec(
    "sitroom_flood_messages_rejected_total",
    "counter",
    "Messages rejected, by reason; sensor is empty for unknown or unparseable ones.",
    ("sensor", "reason"),
)
INFO = MetricSpec(
    "sitroom_flood_sensor_info",
    "info",
    "Configured sensor: location labels for joins.",
    ("sensor", "type", "location", "district", "river", "latitude", "longitude"),
)
THRESHOLD = MetricSpec(
    "sitroom_flood_threshold_meters",
    "gauge",
    "Water level where each alert level starts (from config).",
    ("sensor", "level"),
    unit="meters",
    keep_when_stale=True,
)
RAIN_THRESHOLD = MetricSpec(
    "sitroom_flood_rain_threshold_meters_per_second",
    "gauge",
    "Rain rate where each alert level starts (from config).",
    ("sensor", "level"),
    unit="meters_per_second",
    keep_when_stale=True,
)
METRICS = (
    WATER_LEVEL,
    RATE_OF_RISE,
    RAIN_RATE,
    RAIN_TOTAL,
    BATTERY_RATIO,
    BATTERY_VOLTS,
    SIGNAL,
    LAST_SEEN,
    ALERT_LEVEL,
    RECEIVED,
    REJECTED,
    INFO,
    THRESHOLD,
    RAIN_THRESHOLD,
)
