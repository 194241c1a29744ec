"""The polling source: one bounded GET per station, parsed, written through the specs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sitroom.api import HttpHeader, PollingSource, SourceError, fetch_bytes
from sitroom_weather.config import WeatherConfig
from sitroom_weather.metrics import HUMIDITY, OBSERVED, RAIN, READINGS, TEMPERATURE


@dataclass(frozen=True)
class Reading:
    station: str
    temperature_celsius: float
    humidity_ratio: float
    rain_last_hour_meters: float
    observed_at: float


def parse_reading(station: str, body: bytes) -> Reading:
    """The service's JSON as a Reading; anything else is a `decode` failure."""
    try:
        doc: Any = json.loads(body)
        return Reading(
            station=station,
            temperature_celsius=float(doc["temperature_c"]),
            humidity_ratio=float(doc["humidity_percent"]) / 100,
            rain_last_hour_meters=float(doc["rain_mm_last_hour"]) / 1000,
            observed_at=float(doc["observed_at"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError("decode", f"station {station}: {type(exc).__name__}") from None


# --8<-- [start:source]
class WeatherStation(PollingSource):
    config: WeatherConfig

    def __init__(self, config: WeatherConfig, ctx: Any) -> None:
        super().__init__(config, ctx)  # no I/O here: the core may build a source to compare it
        self.latest: dict[str, Reading] = {}  # what the route shows

    async def collect(self) -> None:
        base = str(self.config.url).rstrip("/")
        key = HttpHeader(name="X-Api-Key", value=self.config.api_key)
        readings = []
        for station in self.config.stations:
            body = await fetch_bytes(  # raises SourceError("status" | "timeout" | "connect" ...)
                self.ctx.http(),
                f"{base}/v1/stations/{station}/current",
                time_limit=float(self.config.timeout),
                max_bytes=self.config.max_body_bytes,
                headers=[key],
            )
            readings.append(parse_reading(station, body))
        # all stations read: write them together, so one poll never shows half a city
        for r in readings:
            self.metrics.set(TEMPERATURE, r.temperature_celsius, station=r.station)
            self.metrics.set(HUMIDITY, r.humidity_ratio, station=r.station)
            self.metrics.set(RAIN, r.rain_last_hour_meters, station=r.station)
            self.metrics.set(OBSERVED, r.observed_at, station=r.station)
            self.metrics.inc(READINGS, station=r.station)
            self.latest[r.station] = r
# --8<-- [end:source]
