"""Payload -> readings: a plain number, JSON with a path per field, or SenML (RFC 8428).

Decoding is strict on purpose: a value that is not a JSON number (a string, a bool, a list),
a NaN or an infinity is an error, never coerced, because a gateway that sends "12,5" or
`true` is broken and a guess would put a wrong water level on the wall. Every failure is a
`Rejected` with a reason from a small fixed set, so the counters stay low-cardinality.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sitroom_flood.config import PayloadMapping

MS_THRESHOLD = 1e11
"""Epoch numbers above this are milliseconds (1e11 s is the year 5138)."""
SENML_RELATIVE = 2**28
"""RFC 8428: SenML times below 2**28 are relative to now."""
MAX_SENSOR_ID = 64

SENML_UNITS: dict[str, dict[str, float]] = {
    "level": {"m": 1.0, "cm": 0.01, "mm": 0.001},
    "distance": {"m": 1.0, "cm": 0.01, "mm": 0.001},
    "rain_rate": {"mm/h": 1.0, "m/s": 3.6e6, "mm/s": 3600.0},
    "rain": {"mm": 1.0, "m": 1000.0},
    "rain_total": {"mm": 1.0, "m": 1000.0},
    "battery": {"/": 1.0, "%": 0.01, "%EL": 0.01},
    "battery_voltage": {"V": 1.0, "mV": 0.001},
    "signal": {"dBm": 1.0, "dBW": 30.0},
}
"""Accepted SenML units per quantity, as factors to the input unit (dBW is an offset)."""


class Rejected(Exception):
    """A message that must not reach the metrics, with a low-cardinality reason."""

    def __init__(self, reason: str, sensor: str | None = None, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.sensor = sensor


@dataclass
class Decoded:
    """One sensor's values at one time, not yet checked against the sensor's config."""

    sensor: str | None
    values: dict[str, float] = field(default_factory=dict)
    timestamp: float | None = None


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def compile_path(path: str) -> tuple[str | int, ...]:
    """`a.b[2].c` -> ("a", "b", 2, "c")."""
    parts: list[str | int] = []
    for match in _PATH_TOKEN.finditer(path):
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
    return tuple(parts)


_MISSING = object()


def lookup(document: Any, path: tuple[str | int, ...]) -> Any:
    node = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return _MISSING
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                return _MISSING
            node = node[part]
    return node


def number(value: Any, sensor: str | None) -> float:
    """A JSON number as a finite float; bools and strings are wrong types."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("wrong_type", sensor)
    try:
        result = float(value)  # JSON integers are unbounded: 10**400 does not fit a float
    except OverflowError:
        raise Rejected("not_finite", sensor) from None
    return finite(result, sensor)


def finite(value: float, sensor: str | None) -> float:
    """Refuse NaN and infinities, including those that scaling or SenML base sums make."""
    if not math.isfinite(value):
        raise Rejected("not_finite", sensor)
    return value


def parse_timestamp(value: Any, sensor: str | None) -> float:
    """Epoch seconds or milliseconds, or an ISO 8601 string (naive means UTC)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise Rejected("bad_timestamp", sensor) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("bad_timestamp", sensor)
    try:
        seconds = float(value)
    except OverflowError:
        raise Rejected("bad_timestamp", sensor) from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise Rejected("bad_timestamp", sensor)
    return seconds / 1000.0 if seconds > MS_THRESHOLD else seconds


def sensor_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Rejected("wrong_type")
    text = str(value)
    if not text or len(text) > MAX_SENSOR_ID:
        raise Rejected("unknown_sensor")
    return text


def parse_json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise Rejected("malformed") from None


class Decoder:
    """A `PayloadMapping` compiled once, applied to each message."""

    def __init__(self, mapping: PayloadMapping) -> None:
        self.mapping = mapping
        self.sensor_path = compile_path(mapping.sensor)
        self.timestamp_path = compile_path(mapping.timestamp) if mapping.timestamp else None
        self.fields = [(q, compile_path(f.path), f.scale) for q, f in mapping.fields.items()]

    def decode_bytes(self, payload: bytes, topic_sensor: str | None) -> list[Decoded]:
        """One MQTT payload (or HTTP item as raw bytes)."""
        if self.mapping.format == "number":
            return [self._number(payload, topic_sensor)]
        try:
            document = parse_json(payload)
        except Rejected:
            raise Rejected("malformed", topic_sensor) from None
        return self.decode_document(document, topic_sensor)

    def decode_document(self, document: Any, topic_sensor: str | None) -> list[Decoded]:
        """An already parsed JSON value (an HTTP batch element)."""
        if self.mapping.format == "senml":
            return list(self._senml(document, topic_sensor))
        return [self._json(document, topic_sensor)]

    # -- formats ----------------------------------------------------------------------------

    def _number(self, payload: bytes, sensor: str | None) -> Decoded:
        try:
            text = payload.decode("ascii").strip()
            value = float(text)
        except (UnicodeDecodeError, ValueError):
            raise Rejected("malformed", sensor) from None
        return Decoded(sensor, {self.mapping.field: finite(value * self.mapping.scale, sensor)})

    def _json(self, document: Any, sensor: str | None) -> Decoded:
        if not isinstance(document, dict):
            raise Rejected("wrong_type", sensor)
        if sensor is None:
            raw_id = lookup(document, self.sensor_path)
            if raw_id is _MISSING:
                raise Rejected("missing_sensor")
            sensor = sensor_id(raw_id)
        reading = Decoded(sensor)
        for quantity, path, scale in self.fields:
            value = lookup(document, path)
            if value is _MISSING or value is None:
                continue
            reading.values[quantity] = finite(number(value, sensor) * scale, sensor)
        if not reading.values:
            raise Rejected("missing_field", sensor)
        if self.timestamp_path is not None:
            stamp = lookup(document, self.timestamp_path)
            if stamp is not _MISSING and stamp is not None:
                reading.timestamp = parse_timestamp(stamp, sensor)
        return reading

    def _senml(self, document: Any, topic_sensor: str | None) -> Iterator[Decoded]:
        if isinstance(document, dict):
            document = [document]
        if not isinstance(document, list) or not document:
            raise Rejected("wrong_type", topic_sensor)
        groups: dict[tuple[str | None, float | None], Decoded] = {}
        now = time.time()
        base_name, base_time, base_unit, base_value, base_sum = "", 0.0, None, 0.0, 0.0
        for record in document:
            if not isinstance(record, dict):
                raise Rejected("wrong_type", topic_sensor)
            if "bn" in record:
                if not isinstance(record["bn"], str):
                    raise Rejected("wrong_type", topic_sensor)
                base_name = record["bn"]
            if "bt" in record:
                base_time = number(record["bt"], topic_sensor)
            if "bu" in record:
                base_unit = record["bu"]
            if "bv" in record:
                base_value = number(record["bv"], topic_sensor)
            if "bs" in record:
                base_sum = number(record["bs"], topic_sensor)
            name = record.get("n", "")
            if not isinstance(name, str):
                raise Rejected("wrong_type", topic_sensor)
            sensor = topic_sensor
            if sensor is None:
                stripped = base_name.rstrip(":/;.")
                if not stripped:
                    raise Rejected("missing_sensor")
                sensor = sensor_id(stripped)
            quantity = self.mapping.senml_names.get(name)
            if quantity is None:
                continue  # other measurements in the pack (temperature, ...) are not ours
            if "v" in record:
                value = number(record["v"], sensor) + base_value
            elif "s" in record and quantity == "rain_total":
                value = number(record["s"], sensor) + base_sum  # SenML sum: a running total
            else:
                raise Rejected("wrong_type", sensor)
            unit = record.get("u", base_unit)
            if unit is not None:
                factors = SENML_UNITS[quantity]
                if not isinstance(unit, str) or unit not in factors:
                    raise Rejected("wrong_unit", sensor)
                value = value + 30.0 if unit == "dBW" else value * factors[unit]
            when: float | None = None
            if "t" in record or "bt" in record or base_time:
                total = base_time + number(record.get("t", 0.0), sensor)
                when = senml_time(finite(total, sensor), now)
            key = (sensor, when)
            group = groups.setdefault(key, Decoded(sensor, timestamp=None))
            group.values[quantity] = finite(value, sensor)
            group.timestamp = when
        if not groups:
            raise Rejected("missing_field", topic_sensor)
        yield from groups.values()


def senml_time(value: float, now: float) -> float:
    """Absolute SenML time, resolving RFC 8428's relative times (< 2**28) against `now`."""
    return now + value if value < SENML_RELATIVE else value
