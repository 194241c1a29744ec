"""MQTT messages per second ingested by `mqtt_sensors` on one core, against baselines.

Method: a private Mosquitto on a loopback port; each measured client first creates its
persistent session (subscribe, disconnect), then N QoS 1 messages are published and queued
by the broker for every session. The timed part is a client connecting and draining its
queue, so the publisher never competes for the CPU while we measure. This process is pinned
to one CPU; the broker runs unpinned.

Rows, all in one run on the same messages:
- `aiomqtt drain (baseline)`: a bare aiomqtt client that receives and discards: the
  transport's ceiling on this machine.
- `mqtt_sensors source`: the real source (routing, JSON decode, validation, rate of rise,
  alert level, metric writes), run by the real supervisor's code path.
- `ack first (comparison)`: the same source, but with aiomqtt's own queue, so the PUBACK
  leaves before the message is processed: what the process-before-ack design costs.
- `pipeline only`: the same payloads through the ingest pipeline without MQTT (CPU cost).

Each MQTT row runs twice, interleaved, and the best run is reported: the test box is
shared, and the best of several runs is the least disturbed one.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiomqtt
import paho.mqtt.client as paho

from sitroom.context import SourceContext
from sitroom.metrics.store import MetricStore
from sitroom_flood.config import MqttSensorsConfig
from sitroom_flood.metrics import METRICS
from sitroom_flood.mqtt import MqttSensors
from sitroom_flood.simulator import broker

MESSAGES = 20_000
ROUNDS = 2
SENSORS = 200
TOPIC = "bench/awlr/{sensor}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def payloads() -> list[tuple[str, bytes]]:
    start = time.time() - MESSAGES / SENSORS * 5 - 60
    out = []
    for i in range(MESSAGES):
        sensor = f"s{i % SENSORS:03d}"
        at = start + (i // SENSORS) * 5
        body = {"level_cm": 150 + (i // SENSORS) % 50, "batt": 0.8, "rssi": -70, "ts": at}
        out.append((f"bench/awlr/{sensor}", json.dumps(body).encode()))
    return out


def source_config(port: int, client_id: str) -> MqttSensorsConfig:
    sensors = {f"s{i:03d}": {"type": "water_level",
                             "thresholds": {"waspada": 2.0, "siaga": 2.5, "awas": 3.0}}
               for i in range(SENSORS)}
    return MqttSensorsConfig.model_validate({
        "kind": "mqtt_sensors", "name": "bench", "port": port, "client_id": client_id,
        "topics": [{"topic": TOPIC, "format": "json",
                    "fields": {"level": {"path": "level_cm", "scale": 0.01},
                               "battery": "batt", "signal": "rssi"}}],
        "sensors": sensors, "max_age": "1d", "stale_after": "1d",
    })


def make_source(config: MqttSensorsConfig, state_dir: Path) -> MqttSensors:
    store = MetricStore()
    writer = store.writer("bench", METRICS, ("bench",), 100_000)
    ctx = SourceContext(name="bench", kind="mqtt_sensors", metrics=writer,
                        state_dir=state_dir)
    source = MqttSensors(config, ctx)
    source.ingestor.start()
    return source


def prepare_session(port: int, client_id: str) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=False)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe("bench/#", qos=1)
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()


def publish_all(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout=60)
    client.disconnect()
    client.loop_stop()


async def drain_baseline(port: int, client_id: str) -> float:
    received = 0
    started = time.perf_counter()
    async with aiomqtt.Client("127.0.0.1", port, identifier=client_id, clean_session=False) as c:
        async for _ in c.messages:
            received += 1
            if received == MESSAGES:
                break
    return time.perf_counter() - started


class AckFirstSensors(MqttSensors):
    """Comparison only: aiomqtt's default queue, so messages are acknowledged first."""

    async def run(self) -> None:
        self.ingestor.start()
        async with aiomqtt.Client("127.0.0.1", self.config.port, clean_session=False,
                                  identifier=self.config.effective_client_id) as client:
            await client.subscribe("bench/#", qos=1)
            async for message in client.messages:
                self.on_message(message)


async def drain_source(port: int, client_id: str, state_dir: Path, ack_first: bool = False
                       ) -> tuple[float, MqttSensors]:
    source = make_source(source_config(port, client_id), state_dir)
    if ack_first:
        source = AckFirstSensors(source.config, source.ctx)
    started = time.perf_counter()
    task = asyncio.create_task(source.run())
    while source.ingestor.accepted + sum(source.ingestor.reasons.values()) < MESSAGES:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return elapsed, source


def pipeline_only(messages: list[tuple[str, bytes]], port: int, state_dir: Path) -> float:
    source = make_source(source_config(port, "unused"), state_dir)
    started = time.perf_counter()
    for topic, payload in messages:
        source.on_message(aiomqtt.Message(topic, payload, 1, False, 1, None))
    return time.perf_counter() - started


async def run() -> dict[str, Any]:
    binary = broker.find_mosquitto()
    if binary is None:
        raise SystemExit("bench.flood needs mosquitto (/usr/sbin/mosquitto)")
    messages = payloads()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-flood-") as tmp:
        conf = broker.write_config(Path(tmp), port)
        process = await broker.start(binary, conf, port)
        try:
            rows = ("baseline", "source", "ackfirst")
            ids = {(row, r): f"bench-{row}-{r}-{port}" for r in range(ROUNDS) for row in rows}
            for client_id in ids.values():
                await asyncio.to_thread(prepare_session, port, client_id)
            await asyncio.to_thread(publish_all, port, messages)
            times: dict[str, list[float]] = {row: [] for row in rows}
            for r in range(ROUNDS):
                times["baseline"].append(await drain_baseline(port, ids["baseline", r]))
                elapsed, source = await drain_source(port, ids["source", r],
                                                     Path(tmp) / f"state{r}")
                times["source"].append(elapsed)
                elapsed, _ = await drain_source(port, ids["ackfirst", r],
                                                Path(tmp) / f"ack{r}", ack_first=True)
                times["ackfirst"].append(elapsed)
            times["pipeline"] = [pipeline_only(messages, port, Path(tmp) / f"only{r}")
                                 for r in range(ROUNDS)]
        finally:
            await broker.stop(process)
    return {**{row: min(values) for row, values in times.items()},
            "accepted": source.ingestor.accepted, "rejected": dict(source.ingestor.reasons)}


def main() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    result = asyncio.run(run())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}, this process pinned to CPU {cpus[-1]}")
    print(f"load before: {load}")
    print(f"{MESSAGES} QoS 1 JSON messages, {SENSORS} sensors, queued by mosquitto; "
          f"best of {ROUNDS} interleaved runs")
    print(f"{'path':32} {'seconds':>8} {'msg/s':>9} {'us/msg':>8}")
    for label, key in (("aiomqtt drain (baseline)", "baseline"),
                       ("mqtt_sensors source", "source"),
                       ("ack first (comparison)", "ackfirst"),
                       ("pipeline only (no MQTT)", "pipeline")):
        seconds = result[key]
        print(f"{label:32} {seconds:8.2f} {MESSAGES / seconds:9.0f} "
              f"{seconds / MESSAGES * 1e6:8.1f}")
    print(f"accepted {result['accepted']}, rejected {result['rejected'] or 'none'}")


if __name__ == "__main__":
    main()
