"""The families a `weather_station` source writes, declared once and written by these names.

Writes pass the spec object (`self.metrics.set(TEMPERATURE, ...)`), so a misspelt name is an
`AttributeError` when the module is imported, not a surprise on the first rainy day.
"""

from __future__ import annotations

from sitroom.api import MetricSpec

# --8<-- [start:metrics]
LABELS = ("station",)  # the core adds `source`; label values come from config only

TEMPERATURE = MetricSpec(
    "sitroom_weather_temperature_celsius", "gauge", "Air temperature.", LABELS, unit="celsius"
)
HUMIDITY = MetricSpec(
    "sitroom_weather_humidity_ratio", "gauge", "Relative humidity, 0 to 1.", LABELS,
    unit="ratio",
)
RAIN = MetricSpec(
    "sitroom_weather_rain_last_hour_meters", "gauge", "Rain over the past hour.", LABELS,
    unit="meters",
)
OBSERVED = MetricSpec(
    "sitroom_weather_observed_timestamp_seconds", "gauge",
    "When the station took its last reading (Unix time).", LABELS, unit="seconds",
)
READINGS = MetricSpec(
    "sitroom_weather_readings_total", "counter", "Readings received.", LABELS
)
METRICS = (TEMPERATURE, HUMIDITY, RAIN, OBSERVED, READINGS)
# --8<-- [end:metrics]
