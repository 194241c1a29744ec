"""The metric families both flood kinds emit (one list: one ingest pipeline writes them).

Base units throughout: water level in meters, rate of rise in meters per second (multiply
by 3600 for the m/h that BPBD bulletins use), rain rate in meters per second (multiply by
3.6e6 for mm/h) and accumulated rain in meters (x1000 for mm).
"""

from __future__ import annotations

from sitroom.api import MetricSpec

S = ("sensor",)

WATER_LEVEL = "sitroom_flood_water_level_meters"
RATE_OF_RISE = "sitroom_flood_water_level_rate_of_rise_meters_per_second"
RAIN_RATE = "sitroom_flood_rain_rate_meters_per_second"
RAIN_TOTAL = "sitroom_flood_rain_meters_total"
BATTERY_RATIO = "sitroom_flood_battery_ratio"
BATTERY_VOLTS = "sitroom_flood_battery_volts"
SIGNAL = "sitroom_flood_signal_strength_dbm"
LAST_SEEN = "sitroom_flood_sensor_last_seen_timestamp_seconds"
ALERT_LEVEL = "sitroom_flood_alert_level"
RECEIVED = "sitroom_flood_messages_received_total"
REJECTED = "sitroom_flood_messages_rejected_total"
INFO = "sitroom_flood_sensor_info"
THRESHOLD = "sitroom_flood_threshold_meters"
RAIN_THRESHOLD = "sitroom_flood_rain_threshold_meters_per_second"

METRICS = (
    MetricSpec(
        WATER_LEVEL,
        "gauge",
        "Water (or sea) level above the sensor's datum.",
        S,
        unit="meters",
    ),
    MetricSpec(
        RATE_OF_RISE,
        "gauge",
        "Rate of rise of the water level, robust line fit over rate_window (x3600 = m/h).",
        S,
        unit="meters_per_second",
    ),
    MetricSpec(
        RAIN_RATE,
        "gauge",
        "Rain intensity (x3.6e6 = mm/h).",
        S,
        unit="meters_per_second",
    ),
    MetricSpec(
        RAIN_TOTAL,
        "counter",
        "Rain depth accumulated since the daemon started (x1000 = mm).",
        S,
        unit="meters",
    ),
    MetricSpec(BATTERY_RATIO, "gauge", "Battery charge, 0..1.", S, unit="ratio"),
    MetricSpec(BATTERY_VOLTS, "gauge", "Battery voltage.", S, unit="volts"),
    MetricSpec(SIGNAL, "gauge", "Radio signal strength reported by the sensor.", S, unit="dbm"),
    MetricSpec(
        LAST_SEEN,
        "gauge",
        "Time of the newest accepted reading (kept when the sensor goes silent).",
        S,
        unit="seconds",
        keep_when_stale=True,
    ),
    MetricSpec(
        ALERT_LEVEL,
        "gauge",
        "Alert level from the sensor's thresholds: 0 Normal, 1 Waspada, 2 Siaga, 3 Awas.",
        S,
    ),
    MetricSpec(
        RECEIVED,
        "counter",
        "Messages received; sensor is empty when it could not be attributed.",
        S,
    ),
    MetricSpec(
        REJECTED,
        "counter",
        "Messages rejected, by reason; sensor is empty for unknown or unparseable ones.",
        ("sensor", "reason"),
    ),
    MetricSpec(
        INFO,
        "info",
        "Configured sensor: location labels for joins.",
        ("sensor", "type", "location", "district", "river", "latitude", "longitude"),
    ),
    MetricSpec(
        THRESHOLD,
        "gauge",
        "Water level where each alert level starts (from config).",
        ("sensor", "level"),
        unit="meters",
        keep_when_stale=True,
    ),
    MetricSpec(
        RAIN_THRESHOLD,
        "gauge",
        "Rain rate where each alert level starts (from config).",
        ("sensor", "level"),
        unit="meters_per_second",
        keep_when_stale=True,
    ),
)
