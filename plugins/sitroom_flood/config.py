"""Config models shared by the `mqtt_sensors` and `http_sensors` kinds.

Both kinds describe the same things (which sensors exist, where they are, when their water is
dangerous, how their payloads are laid out); only the transport differs. Keeping the models
here is what lets one ingest pipeline serve both kinds.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

from pydantic import Field, SecretStr, field_validator, model_validator

from sitroom.api import ConfigModel, Duration, InputFile, SourceConfig

SENSOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_SENSORS_PER_SOURCE = 5000

SensorType = Literal["water_level", "rain_gauge", "tide"]
Quantity = Literal[
    "level", "distance", "rain_rate", "rain", "rain_total", "battery", "battery_voltage", "signal"
]
QUANTITIES: tuple[Quantity, ...] = get_args(Quantity)
LEVELS = ("waspada", "siaga", "awas")
"""The Indonesian alert levels above Normal (0): Waspada (1), Siaga (2), Awas (3)."""


class Thresholds(ConfigModel):
    """Where each alert level starts, in the sensor's own quantity.

    Water level and tide sensors: meters above the sensor's datum (after `datum_offset`).
    Rain gauges: rain rate in millimeters per hour (BMKG publishes its classes that way).
    """

    waspada: float
    siaga: float
    awas: float
    hysteresis: float = Field(
        default=0.0,
        ge=0,
        description="A level is left only when the value falls this far below its threshold "
        "(stops a river hovering at a threshold from flapping the alert).",
    )

    @model_validator(mode="after")
    def _increasing(self) -> Thresholds:
        values = [self.waspada, self.siaga, self.awas]
        if not all(math.isfinite(v) for v in values):
            raise ValueError("thresholds must be finite numbers")
        if not self.waspada < self.siaga < self.awas:
            raise ValueError("thresholds must increase: waspada < siaga < awas")
        return self

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.waspada, self.siaga, self.awas)


class SensorConfig(ConfigModel):
    """One physical sensor: what it measures, where it is, and when to worry."""

    type: SensorType = "water_level"
    location: str = Field(default="", max_length=120, description="Site name (pos, bridge).")
    district: str = Field(default="", max_length=60, description="Kecamatan.")
    river: str = Field(default="", max_length=60, description="River, canal or coast.")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    thresholds: Thresholds | None = None
    datum_offset: float = Field(
        default=0.0,
        description="Meters added to `level` readings to put them on the site datum; for "
        "`distance` readings (ultrasonic/radar looking down) the height of the sensor above "
        "the datum, so level = datum_offset - distance.",
    )
    min_value: float | None = Field(
        default=None, description="Plausible range of the main quantity; outside is rejected."
    )
    max_value: float | None = None

    @field_validator("datum_offset")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class FieldPath(ConfigModel):
    """Where one quantity sits in a JSON payload, and how to scale it to the input unit."""

    path: str = Field(min_length=1, max_length=200)
    scale: float = 1.0


class PayloadMapping(ConfigModel):
    """How to read one kind of payload: a plain number, JSON fields, or SenML (RFC 8428).

    Values are read in the input units: level and distance in meters, rain_rate in mm/h,
    rain and rain_total in mm, battery as a ratio 0..1, battery_voltage in volts, signal in
    dBm; `scale` converts from what the device sends (e.g. 0.01 for centimeters).
    """

    topic: str = Field(
        default="#",
        max_length=200,
        description="MQTT topic filter (`+`, `#`); a `{sensor}` segment names the sensor id "
        "and subscribes as `+`. Ignored by http_sensors.",
    )
    format: Literal["number", "json", "senml"] = "json"
    field: Quantity = Field(default="level", description="format=number: what the number is.")
    scale: float = Field(default=1.0, description="format=number: multiplier to input units.")
    sensor: str = Field(
        default="sensor",
        max_length=200,
        description="format=json: path to the sensor id when the topic has no {sensor}.",
    )
    fields: dict[Quantity, FieldPath] = Field(
        default_factory=lambda: {q: FieldPath(path=q) for q in QUANTITIES},
        description="format=json: quantity -> path (dots and [n] indexes) and scale.",
    )
    timestamp: str | None = Field(
        default="ts",
        description="format=json: path to the reading time (epoch s or ms, or ISO 8601); "
        "absent means arrival time.",
    )
    senml_names: dict[str, Quantity] = Field(
        default_factory=lambda: {str(q): q for q in QUANTITIES},
        description="format=senml: record name (after the base name) -> quantity.",
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _short_fields(cls, value: object) -> object:
        """Allow `level: water.level` as shorthand for `level: {path: water.level}`."""
        if isinstance(value, dict):
            return {k: {"path": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("topic")
    @classmethod
    def _valid_filter(cls, value: str) -> str:
        parts = value.split("/")
        for index, part in enumerate(parts):
            if part == "#" and index != len(parts) - 1:
                raise ValueError("'#' may only be the last topic level")
            if part not in ("#", "+", "{sensor}") and any(c in part for c in "#+{}"):
                raise ValueError(f"invalid topic level {part!r}")
        if parts.count("{sensor}") > 1:
            raise ValueError("at most one {sensor} level")
        return value

    @property
    def subscription(self) -> str:
        return "/".join("+" if p == "{sensor}" else p for p in self.topic.split("/"))


class FloodSourceConfig(SourceConfig):
    """What both transports share: the sensors and the ingest rules."""

    sensors: dict[str, SensorConfig] = Field(
        min_length=1,
        max_length=MAX_SENSORS_PER_SOURCE,
        description="Sensor id (as in topics/payloads) -> metadata. Others are rejected.",
    )
    stale_after: Duration = Field(default=600.0, gt=0)
    rate_window: Duration = Field(
        default=900.0, gt=0, description="Readings the rate of rise is fitted over."
    )
    rate_min_span: Duration = Field(
        default=120.0, gt=0, description="Least time the window must span to give a rate."
    )
    max_clock_skew: Duration = Field(
        default=60.0, ge=0, description="Readings stamped further in the future are rejected."
    )
    max_age: Duration = Field(
        default=21600.0, gt=0, description="Readings older than this are rejected (too_old)."
    )
    describe: Literal["always", "when_seen"] = Field(
        default="always",
        description="Publish info and threshold series for every configured sensor at start "
        "(always), or only once this source has received a reading from it (when_seen: a "
        "standby gateway sharing sensors with another source adds no duplicate series).",
    )

    @field_validator("sensors")
    @classmethod
    def _sensor_ids(cls, value: dict[str, SensorConfig]) -> dict[str, SensorConfig]:
        import re

        pattern = re.compile(SENSOR_ID_PATTERN)
        for sensor_id in value:
            if not pattern.match(sensor_id):
                raise ValueError(f"sensor id {sensor_id!r} must match {SENSOR_ID_PATTERN}")
        return value


class TlsConfig(ConfigModel):
    ca_file: InputFile | None = Field(default=None, description="CA bundle; default: system.")
    cert_file: InputFile | None = None
    key_file: InputFile | None = None
    insecure: bool = Field(default=False, description="Skip hostname verification (labs).")


class MqttSensorsConfig(FloodSourceConfig):
    kind: str = "mqtt_sensors"
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    tls: TlsConfig | None = None
    username: str | None = None
    password: SecretStr | None = None
    client_id: str | None = Field(
        default=None,
        max_length=64,
        description="Fixed client id for the persistent session (default sitroom-<name>).",
    )
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    qos: int = Field(default=1, ge=0, le=1)
    keepalive: Duration = Field(default=30.0, ge=5)
    session_expiry: Duration = Field(
        default=86400.0, ge=0, description="MQTT 5: how long the broker keeps our session."
    )
    max_payload_bytes: int = Field(default=65536, ge=16, le=16 * 1024 * 1024)
    topics: list[PayloadMapping] = Field(min_length=1, max_length=64)

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_text(cls, value: object) -> object:
        """YAML reads `protocol: 5` as a number."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("topics")
    @classmethod
    def _number_needs_topic_id(cls, value: list[PayloadMapping]) -> list[PayloadMapping]:
        for mapping in value:
            if mapping.format == "number" and "{sensor}" not in mapping.topic.split("/"):
                raise ValueError(f"topic {mapping.topic!r}: format number needs a {{sensor}} "
                                 "level (a bare number cannot name its sensor)")
        return value

    @property
    def effective_client_id(self) -> str:
        return self.client_id or f"sitroom-{self.name}"


class HttpSensorsConfig(FloodSourceConfig):
    kind: str = "http_sensors"
    payload: PayloadMapping = PayloadMapping()
    max_body_bytes: int = Field(default=1_048_576, ge=64, le=4 * 1024 * 1024)
    max_batch: int = Field(default=1000, ge=1, le=100_000)

    @field_validator("payload")
    @classmethod
    def _no_number(cls, value: PayloadMapping) -> PayloadMapping:
        if value.format == "number":
            raise ValueError("http_sensors needs json or senml payloads (no topic for the id)")
        return value
