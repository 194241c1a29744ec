"""Events on a real Mosquitto: Frigate-shaped new/end messages at QoS 1, retained
availability, and a queue that waits out a broker that is away."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from sitroom import selfmetrics as sm
from sitroom.api import EventSpec, Text
from sitroom.events import metrics as em
from sitroom.events.manager import EventManager, SourceEvents
from sitroom.events.mqtt import MqttEventPublisher
from sitroom.metrics.store import MetricStore
from tests.flood.conftest import Mosquitto

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SPEC = EventSpec("CameraLoitering", "warning", "security",
                 summary=Text("loitering in {zone} on camera {camera}",
                              "berlama-lama di {zone} pada kamera {camera}"),
                 description=Text("d", "d"), labels=("camera", "zone", "rule"))


async def collect(port: int, topic: str, count: int, within: float = 15.0
                  ) -> list[tuple[str, bytes, bool, int]]:
    got: list[tuple[str, bytes, bool, int]] = []
    async with aiomqtt.Client("127.0.0.1", port, identifier="") as client:
        await client.subscribe(topic, qos=1)
        async with asyncio.timeout(within):
            async for message in client.messages:
                payload = message.payload if isinstance(message.payload, bytes) else b""
                got.append((str(message.topic), payload, message.retain, message.qos))
                if len(got) >= count:
                    break
    return got


def setup(port: int) -> tuple[EventManager, MqttEventPublisher, Any]:
    core = MetricStore().writer("__sitroom__", sm.ALL)
    manager = EventManager(core)
    publisher = MqttEventPublisher(host="127.0.0.1", port=port, prefix="sitroom",
                                   username=None, password=None, client_id="sitroom-test",
                                   capacity=100, metrics=core, max_backoff=0.5)
    manager.sinks.append(publisher)
    return manager, publisher, core


async def test_new_update_end_with_before_after_and_retained_availability(
        tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker").start()
    manager, publisher, core = setup(broker.port)
    task = asyncio.create_task(publisher.run())
    try:
        listener = asyncio.create_task(collect(broker.port, "sitroom/events", 3))
        await asyncio.sleep(0.5)  # subscribed before the events
        events = SourceEvents(manager, "camera", "cam-1", (SPEC,))
        labels = {"camera": "cam-1", "zone": "gate", "rule": "loitering"}
        events.fire(SPEC, **labels)
        events.fire(SPEC, zone_dwell="95", **labels)  # same texts: no update
        events.resolve(SPEC, **labels)
        events.fire(SPEC, **labels)  # a new incident
        messages = await listener
        kinds = [json.loads(payload)["type"] for _, payload, _, _ in messages]
        assert kinds == ["new", "end", "new"]
        first, end, again = (json.loads(p) for _, p, _, _ in messages)
        assert first["before"] is None and first["after"]["active"] is True
        assert first["after"]["labels"]["zone"] == "gate"
        assert first["after"]["annotations"]["summary"] == "loitering in gate on camera cam-1"
        assert end["before"]["active"] is True and end["after"]["active"] is False
        assert end["after"]["end_time"] is not None
        assert again["after"]["id"] != first["after"]["id"]
        assert all(qos == 1 for *_, qos in messages)

        events.health(False)
        await asyncio.sleep(0.5)
        # a client that connects later still learns availability: it is retained
        retained = await collect(broker.port, "sitroom/#", 2)
        topics = {topic: (payload, retain) for topic, payload, retain, _ in retained}
        assert topics["sitroom/available"] == (b"online", True)
        assert topics["sitroom/sources/cam-1/available"] == (b"offline", True)
        assert core.get(em.MQTT_CONNECTED) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        broker.stop()


async def test_broker_down_events_wait_in_the_queue_and_are_published_when_it_returns(
        tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker")  # not started yet
    manager, publisher, core = setup(broker.port)
    task = asyncio.create_task(publisher.run())
    try:
        events = SourceEvents(manager, "camera", "cam-2", (SPEC,))
        for zone in ("a", "b", "c"):
            events.fire(SPEC, camera="cam-2", zone=zone, rule="loitering")
        await asyncio.sleep(1.0)
        assert len(publisher.queue) == 3 and core.get(em.MQTT_FAILURES, reason="connect") >= 1
        broker.start()
        for _ in range(100):
            if not publisher.queue:
                break
            await asyncio.sleep(0.1)
        assert not publisher.queue and core.get(em.MQTT_PUBLISHED) >= 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        broker.stop()
