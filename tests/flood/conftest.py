"""Fixtures for the flood plugin: a real Mosquitto per test, a supervised source, a publisher.

Every broker gets a free loopback port and its own directory under tmp_path (config and
persistence db), so tests run in parallel under xdist without sharing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

import sitroom_flood
from sitroom import selfmetrics as sm
from sitroom.context import SourceContext
from sitroom.metrics.store import MetricStore
from sitroom.supervisor import SourceRunner
from sitroom.testing import kinds_of
from sitroom_flood.simulator import broker
from tests.support import ManagedProcess, free_port, require_tool, wait_for_port

SENSORS: dict[str, Any] = {
    "bkb": {
        "type": "water_level",
        "location": "Bendung Simongan",
        "district": "Semarang Barat",
        "river": "Banjir Kanal Barat",
        "latitude": -6.9933,
        "longitude": 110.3986,
        "thresholds": {"waspada": 3.0, "siaga": 4.0, "awas": 5.0, "hysteresis": 0.05},
    },
    "bkt": {
        "type": "water_level",
        "river": "Banjir Kanal Timur",
        "datum_offset": 0.5,
        "thresholds": {"waspada": 2.5, "siaga": 3.2, "awas": 4.0},
    },
    "arr": {"type": "rain_gauge", "thresholds": {"waspada": 10, "siaga": 20, "awas": 50}},
    "tide": {"type": "tide", "thresholds": {"waspada": 0.95, "siaga": 1.1, "awas": 1.3}},
}

TOPICS: list[dict[str, Any]] = [
    {"topic": "kota/awlr/{sensor}", "format": "json",
     "fields": {"level": {"path": "level_cm", "scale": 0.01}, "battery": "batt",
                "signal": "rssi"}},
    {"topic": "kota/raw/{sensor}/level", "format": "number"},
    {"topic": "kota/senml", "format": "senml"},
    {"topic": "kota/json", "format": "json"},
]


def sensors() -> dict[str, Any]:
    return copy.deepcopy(SENSORS)


class Mosquitto:
    """A real broker that a test can stop and start again on the same port and db."""

    def __init__(self, directory: Path, persistence: bool = True,
                 extra: list[str] | None = None) -> None:
        self.binary = require_tool("mosquitto")
        self.port = free_port()
        self.config = broker.write_config(directory, self.port, persistence=persistence)
        if extra:
            self.config.write_text(self.config.read_text() + "\n".join(extra) + "\n")
        self.proc: ManagedProcess | None = None

    def start(self) -> Mosquitto:
        self.proc = ManagedProcess([self.binary, "-c", str(self.config)])
        try:
            wait_for_port(self.port)
        except TimeoutError:
            raise AssertionError(f"mosquitto did not start:\n{self.proc.output()}") from None
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()  # SIGTERM: mosquitto writes its persistence db on the way out
            self.proc.__exit__()
            self.proc = None


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "broker").start()
    yield server
    server.stop()


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    made: list[Mosquitto] = []

    def make(**kwargs: Any) -> Mosquitto:
        server = Mosquitto(tmp_path / f"broker{len(made)}", **kwargs)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


def publish(port: int, messages: list[tuple[str, bytes | str]], qos: int = 1,
            client_id: str | None = None, ca_file: str | None = None, retain: bool = False,
            **auth: str) -> None:
    """Publish with a blocking paho client and wait for every PUBACK.

    Blocking on purpose: called straight from a coroutine it freezes the event loop, which
    is how a test guarantees the source cannot reconnect while messages are queued.
    """
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id or "")
    if auth:
        client.username_pw_set(auth["username"], auth["password"])
    if ca_file:
        client.tls_set(ca_certs=ca_file)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, payload in messages:
            info = client.publish(topic, payload, qos=qos, retain=retain)
            info.wait_for_publish(timeout=10)
            assert info.is_published(), f"publish to {topic} not acknowledged"
    finally:
        client.disconnect()
        client.loop_stop()


class Supervised:
    """A source run by the real supervisor (reconnects, backoff), with its own store."""

    def __init__(self, config: dict[str, Any], state_dir: Path,
                 base_dir: Path | None = None) -> None:
        self.kind = kinds_of(sitroom_flood)[config["kind"]]
        self.config = self.kind.config_model.model_validate(
            config, context={"base_dir": base_dir})
        self.store = MetricStore()
        self.metrics = self.store.writer(self.config.name, self.kind.metrics,
                                         (self.config.name,), 10_000)
        self.core = self.store.writer("__sitroom__", sm.ALL)
        self.ctx = SourceContext(name=self.config.name, kind=self.kind.name,
                                 metrics=self.metrics, state_dir=state_dir)
        self.runner = SourceRunner(self.kind, self.config, self.ctx, self.core, max_backoff=2.0)

    @property
    def source(self) -> Any:
        return self.runner.source

    @property
    def state(self) -> str:
        return self.ctx.status.state

    def value(self, name: str, **labels: object) -> float | None:
        return self.metrics.get(name, **labels)

    def restarts(self) -> float:
        return self.core.get(sm.SOURCE_RESTARTS.name, kind=self.kind.name,
                             source=self.config.name) or 0.0

    async def until(self, predicate: Callable[[], Any], within: float = 15.0,
                    what: str = "") -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            result = predicate()
            if result:
                return result
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}; state="
                                     f"{self.state} error={self.ctx.status.last_error}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def supervised(config: dict[str, Any], base_dir: Path | None = None
                     ) -> AsyncIterator[Supervised]:
    with tempfile.TemporaryDirectory(prefix="sitroom-flood-state-") as state_dir:
        async with _supervised(config, Path(state_dir), base_dir) as handle:
            yield handle


@contextlib.asynccontextmanager
async def _supervised(config: dict[str, Any], state_dir: Path, base_dir: Path | None
                      ) -> AsyncIterator[Supervised]:
    handle = Supervised(config, state_dir, base_dir)
    handle.runner.start()
    try:
        yield handle
    finally:
        await handle.runner.stop(5.0)


def mqtt_config(port: int, name: str = "flood", **extra: Any) -> dict[str, Any]:
    return {"kind": "mqtt_sensors", "name": name, "host": "127.0.0.1", "port": port,
            "client_id": f"test-{name}-{port}", "topics": TOPICS, "sensors": sensors(),
            "rate_min_span": "10s", "timeout": "5s", **extra}


def promtool_check(text: str) -> str:
    """`promtool check metrics` output for an exposition (empty when clean)."""
    binary = require_tool("promtool")
    result = subprocess.run([binary, "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=30)
    return (result.stdout + result.stderr).strip()
