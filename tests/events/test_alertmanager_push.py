"""Events pushed to real Alertmanagers (Debian package): delivered once, resolved, re-sent,
and kept in a bounded queue while an Alertmanager is down or slow."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from sitroom import selfmetrics as sm
from sitroom.api import EventSpec, Text
from sitroom.events import metrics as em
from sitroom.events.alertmanager import AlertmanagerPusher
from sitroom.events.manager import EventManager, SourceEvents
from sitroom.metrics.store import MetricStore, MetricWriter
from sitroom.stack import Receiver
from tests.events.conftest import Gate
from tests.support import alertmanager

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SPEC = EventSpec("PumpFault", "warning", "dpu",
                 summary=Text("pump {pump} at {station} reports a fault",
                              "pompa {pump} di {station} melaporkan gangguan"),
                 description=Text("Pump {pump} is down.", "Pompa {pump} mati."),
                 labels=("station", "pump"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


def am_alerts(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/api/v2/alerts?active=true", timeout=5) as response:
        return list(json.loads(response.read()))


async def wait(predicate: Any, within: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def make(url: str, manager: EventManager, core: MetricWriter, **kwargs: Any
         ) -> AlertmanagerPusher:
    settings = {"resend_interval": 60.0, "timeout": 2.0, "capacity": 100, "max_batch": 64,
                "max_backoff": 0.5, **kwargs}
    pusher = AlertmanagerPusher(url, metrics=core, active=manager.events,
                                generator_url=lambda e: f"http://127.0.0.1:1/api/v1/events/{e.id}",
                                **settings)
    manager.sinks.append(pusher)
    return pusher


def firing_notes(rec: Receiver, path: str, pump: str) -> list[Any]:
    return [n for n in rec.notifications if n.path == path and any(
        a["status"] == "firing" and a["labels"].get("pump") == pump
        for a in n.payload["alerts"])]


async def test_every_alertmanager_gets_the_event_once_then_its_end(receiver: Receiver) -> None:
    with ExitStack() as stack:
        am1 = stack.enter_context(alertmanager(f"{receiver.url}/am1"))
        am2 = stack.enter_context(alertmanager(f"{receiver.url}/am2"))
        core = MetricStore().writer("__sitroom__", sm.ALL)
        manager = EventManager(core)
        pushers = [make(am1, manager, core, resend_interval=1.0), make(am2, manager, core)]
        tasks = [asyncio.create_task(p.run()) for p in pushers]
        try:
            events = SourceEvents(manager, "modbus_pump_station", "rp-1", (SPEC,))
            events.fire(SPEC, station="mberok", pump="P1")
            for path in ("/am1", "/am2"):
                note = await wait(lambda p=path: firing_notes(receiver, p, "P1"),
                                  what=f"firing at {path}")
                (alert,) = note[0].payload["alerts"]
                assert alert["labels"] == {"alertname": "PumpFault", "severity": "warning",
                                           "team": "dpu", "source": "rp-1",
                                           "station": "mberok", "pump": "P1"}
                assert alert["annotations"]["summary"] == "pump P1 at mberok reports a fault"
                assert alert["annotations"]["summary_id"] == \
                    "pompa P1 di mberok melaporkan gangguan"
                assert alert["generatorURL"].startswith("http://127.0.0.1:1/api/v1/events/")
            first_end = am_alerts(am1)[0]["endsAt"]
            await asyncio.sleep(2.5)  # resent every second with endsAt moved ahead...
            assert am_alerts(am1)[0]["endsAt"] > first_end
            assert len(firing_notes(receiver, "/am1", "P1")) == 1  # ...without a second page
            events.resolve(SPEC, station="mberok", pump="P1")
            await wait(lambda: [n for n in receiver.notifications if n.path == "/am2"
                                and n.payload["status"] == "resolved"], what="resolved")
            for pusher in pushers:
                assert core.get(em.ALERTS_SENT, alertmanager=pusher.name) >= 2
                hist = core.get(em.DELIVERY_LATENCY, alertmanager=pusher.name)
                assert hist is not None
            assert core.get(em.EVENTS_RAISED, alertname="PumpFault", kind="modbus_pump_station",
                            severity="warning") == 1
            assert core.get(em.EVENTS_RESOLVED, alertname="PumpFault",
                            kind="modbus_pump_station") == 1
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_alertmanager_down_queue_is_bounded_and_delivered_when_it_returns(
        receiver: Receiver) -> None:
    with alertmanager(f"{receiver.url}/am") as am:
        gate = Gate(int(am.rsplit(":", 1)[1]))
        core = MetricStore().writer("__sitroom__", sm.ALL)
        manager = EventManager(core)
        pusher = make(gate.url, manager, core, capacity=20)
        task = asyncio.create_task(pusher.run())
        try:
            events = SourceEvents(manager, "modbus_pump_station", "rp-1", (SPEC,))
            for number in range(25):
                events.fire(SPEC, station="s", pump=f"P{number}")
            await wait(lambda: core.get(em.FAILURES, reason="connect",
                                        alertmanager=pusher.name), what="a connect failure")
            assert not pusher.healthy
            assert core.get(em.QUEUE_LENGTH, alertmanager=pusher.name) == 20
            assert core.get(em.FAILURES, reason="queue_full", alertmanager=pusher.name) == 5
            await gate.set("up")
            names = await wait(lambda: {a["labels"]["pump"] for a in am_alerts(am)}
                               if len(am_alerts(am)) >= 20 else None, what="20 alerts")
            assert names == {f"P{n}" for n in range(5, 25)}  # the oldest 5 were dropped
            await wait(lambda: pusher.healthy and not pusher.queue, what="queue drained")
            assert core.get(em.QUEUE_LENGTH, alertmanager=pusher.name) == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await gate.close()


async def test_a_slow_alertmanager_never_blocks_the_sources(receiver: Receiver) -> None:
    with alertmanager(f"{receiver.url}/am") as am:
        gate = Gate(int(am.rsplit(":", 1)[1]))
        await gate.set("slow")
        core = MetricStore().writer("__sitroom__", sm.ALL)
        manager = EventManager(core)
        pusher = make(gate.url, manager, core, timeout=0.5)
        task = asyncio.create_task(pusher.run())
        try:
            events = SourceEvents(manager, "modbus_pump_station", "rp-1", (SPEC,))
            events.fire(SPEC, station="s", pump="P0")
            await wait(lambda: gate.held >= 1, what="a post held by the slow peer")
            ticks = 0
            for number in range(1, 11):  # raised while a post hangs: each returns at once
                events.fire(SPEC, station="s", pump=f"P{number}")
                await asyncio.sleep(0.02)
                ticks += 1
            assert ticks == 10 and len(pusher.queue) == 11
            await wait(lambda: core.get(em.FAILURES, reason="timeout",
                                        alertmanager=pusher.name), what="a timeout")
            await gate.set("up")
            await wait(lambda: len(am_alerts(am)) == 11, what="all 11 delivered")
            await wait(lambda: pusher.healthy and not pusher.queue, what="queue drained")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await gate.close()


async def test_an_incident_that_ends_while_alertmanager_is_down_still_arrives_first(
        receiver: Receiver) -> None:
    """Start and end are queued apart: the end never swallows the unsent start."""
    with alertmanager(f"{receiver.url}/am") as am:
        gate = Gate(int(am.rsplit(":", 1)[1]))
        core = MetricStore().writer("__sitroom__", sm.ALL)
        manager = EventManager(core)
        pusher = make(gate.url, manager, core)
        task = asyncio.create_task(pusher.run())
        try:
            events = SourceEvents(manager, "modbus_pump_station", "rp-1", (SPEC,))
            events.fire(SPEC, station="s", pump="P9")
            events.resolve(SPEC, station="s", pump="P9")
            assert [slot[1] for slot in pusher.queue] == ["firing", "resolved"]
            await gate.set("up")
            await wait(lambda: not pusher.queue, what="both sent")
            assert core.get(em.ALERTS_SENT, alertmanager=pusher.name) == 2
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await gate.close()
