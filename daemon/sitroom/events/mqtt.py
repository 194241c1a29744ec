"""Events on MQTT for Home Assistant and Node-RED users, in Frigate's shape.

Topics (prefix `sitroom` by default):
- `sitroom/events`: one JSON message per change, `{"type": "new"|"update"|"end",
  "before": {...}|null, "after": {...}}`, QoS 1, not retained;
- `sitroom/available`: `online`, retained; the broker publishes `offline` (our will) if the
  daemon vanishes;
- `sitroom/sources/<source>/available`: `online`/`offline`, retained, per source (a camera's
  availability is its source's), so a dashboard that starts later knows at once.

A bounded queue sits between the sources and the broker: while the broker is away messages
wait (the oldest dropped and counted when full), sources never wait, and availability is
re-published in full after each reconnect.

aiomqtt comes with the `events-mqtt` extra; it is imported only when a publisher runs, so
the core imports without it (the config refuses `alerting.mqtt` when it is missing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from typing import Any

import structlog

from sitroom.events import metrics as em
from sitroom.events.model import Event
from sitroom.metrics.store import MetricWriter
from sitroom.supervisor import backoff_delay

log = structlog.get_logger("sitroom.events.mqtt")
_TOPIC_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class MqttEventPublisher:
    def __init__(self, *, host: str, port: int, prefix: str, username: str | None,
                 password: str | None, client_id: str, capacity: int,
                 metrics: MetricWriter, max_backoff: float = 30.0) -> None:
        self.host, self.port = host, port
        self.prefix = prefix.rstrip("/")
        self.username, self.password = username, password
        self.client_id = client_id
        self.capacity = capacity
        self.metrics = metrics
        self.max_backoff = max_backoff
        self.queue: deque[tuple[str, bytes, bool]] = deque()
        self.sources: dict[str, bool] = {}
        self._wake = asyncio.Event()
        self._full_logged = False
        self.connected = False
        metrics.set(em.MQTT_CONNECTED, 0)
        metrics.inc(em.MQTT_PUBLISHED, 0)
        for reason in ("connect", "queue_full"):
            metrics.inc(em.MQTT_FAILURES, 0, reason=reason)

    def topic(self, *parts: str) -> str:
        return "/".join([self.prefix, *parts])

    # -- sink side -------------------------------------------------------------------------

    def publish(self, change: str, before: Event | None, after: Event) -> None:
        payload = {"type": change, "before": before.to_json() if before else None,
                   "after": after.to_json()}
        self._put(self.topic("events"), json.dumps(payload).encode(), False)

    def availability(self, kind: str, source: str, up: bool) -> None:
        if self.sources.get(source) == up:
            return
        self.sources[source] = up
        self._put(self._source_topic(source), b"online" if up else b"offline", True)

    def _source_topic(self, source: str) -> str:
        return self.topic("sources", _TOPIC_SAFE.sub("_", source), "available")

    def _put(self, topic: str, payload: bytes, retain: bool) -> None:
        self.queue.append((topic, payload, retain))
        while len(self.queue) > self.capacity:
            self.queue.popleft()
            self.metrics.inc(em.MQTT_FAILURES, reason="queue_full")
            if not self._full_logged:
                self._full_logged = True
                log.error("mqtt_events_queue_full", capacity=self.capacity)
        self._wake.set()

    # -- the publisher task ----------------------------------------------------------------

    async def run(self) -> None:
        import aiomqtt

        failures = 0
        will = aiomqtt.Will(self.topic("available"), b"offline", qos=1, retain=True)
        while True:
            try:
                async with aiomqtt.Client(self.host, self.port, username=self.username,
                                          password=self.password, identifier=self.client_id,
                                          will=will, timeout=10) as client:
                    await self._connected(client)
                    if failures:
                        log.info("mqtt_events_recovered", failures=failures)
                    failures = 0
                    await self._drain(client)
            except asyncio.CancelledError:
                raise
            except (aiomqtt.MqttError, OSError) as exc:
                self.metrics.inc(em.MQTT_FAILURES, reason="connect")
                if failures == 0:
                    log.warning("mqtt_events_failing", error=type(exc).__name__,
                                note="retrying with backoff; logged once")
                failures += 1
            finally:
                self.connected = False
                self.metrics.set(em.MQTT_CONNECTED, 0)
            await asyncio.sleep(backoff_delay(failures, 0.5, self.max_backoff))

    async def _connected(self, client: Any) -> None:
        self.connected = True
        self.metrics.set(em.MQTT_CONNECTED, 1)
        await client.publish(self.topic("available"), b"online", qos=1, retain=True)
        for source, up in list(self.sources.items()):
            await client.publish(self._source_topic(source), b"online" if up else b"offline",
                                 qos=1, retain=True)

    async def _drain(self, client: Any) -> None:
        while True:
            while self.queue:
                topic, payload, retain = self.queue[0]
                await client.publish(topic, payload, qos=1, retain=retain, timeout=10)
                if self.queue and self.queue[0] == (topic, payload, retain):
                    self.queue.popleft()  # acknowledged: only now is it off the queue
                self.metrics.inc(em.MQTT_PUBLISHED)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 30)
