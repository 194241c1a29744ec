"""Readings -> the payloads real devices send: the demo's mix of AWLR JSON, rain-gauge JSON,
SenML tide gauges and one legacy logger that publishes a bare number; plus garbage."""

from __future__ import annotations

import json
import random
from typing import Any

from sitroom_flood.simulator.model import Reading


def mqtt_message(reading: Reading, prefix: str) -> tuple[str, bytes]:
    sensor = reading.sensor
    if sensor.transport == "number":
        return f"{prefix}/raw/{sensor.id}/level", f"{reading.level:.3f}".encode()
    if sensor.transport == "senml":
        pack = [
            {"bn": f"{sensor.id}:", "bt": round(reading.at, 3), "n": "level", "u": "m",
             "v": reading.level},
            {"n": "battery", "u": "%EL", "v": round(reading.battery * 100, 1)},
        ]
        return f"{prefix}/tide", json.dumps(pack).encode()
    if sensor.transport == "arr":
        body: dict[str, Any] = {"rain_mm": reading.rain, "rate_mmh": reading.rain_rate,
                                "batt_v": reading.battery_voltage, "rssi": reading.signal,
                                "ts": round(reading.at, 3)}
        return f"{prefix}/arr/{sensor.id}", json.dumps(body).encode()
    body = {"level_cm": round((reading.level or 0.0) * 100, 1),
            "batt_pct": round(reading.battery * 100), "rssi": reading.signal,
            "ts": round(reading.at, 3)}
    return f"{prefix}/awlr/{sensor.id}", json.dumps(body).encode()


def http_item(reading: Reading) -> dict[str, Any]:
    """The gateway's uniform JSON (the http_sensors default mapping)."""
    item: dict[str, Any] = {"sensor": reading.sensor.id, "ts": round(reading.at, 3),
                            "battery": reading.battery, "signal": reading.signal}
    for name in ("level", "rain_rate", "rain"):
        value = getattr(reading, name)
        if value is not None:
            item[name] = value
    return item


def garbage(rng: random.Random, prefix: str, sensor_id: str, now: float
            ) -> tuple[str, bytes]:
    """One broken message of the kinds field devices really send."""
    topic = f"{prefix}/awlr/{sensor_id}"
    choice = rng.randrange(5)
    if choice == 0:
        return topic, b'{"level_cm": 12'  # truncated by a flaky modem
    if choice == 1:
        return topic, b'{"level_cm": NaN, "ts": %d}' % int(now)  # ADC fault
    if choice == 2:
        return topic, b'{"level_cm": "tinggi"}'  # firmware bug
    if choice == 3:
        return f"{prefix}/awlr/awlr-tak-dikenal", b'{"level_cm": 150}'  # unregistered
    return topic, b'{"level_cm": 120, "ts": %d}' % int(now + 86400)  # clock not synced


def http_garbage(rng: random.Random, sensor_id: str, now: float) -> bytes:
    _, payload = garbage(rng, "", sensor_id, now)
    if payload.startswith(b'{"level_cm"') and payload.endswith(b"}"):
        return payload[:-1] + b', "sensor": "' + sensor_id.encode() + b'"}'
    return payload
