"""Pushing events to Alertmanager's v2 API, the way vmalert and Loki's ruler do.

One pusher per Alertmanager (an HA pair gets every alert twice and dedupes by fingerprint).
Each pusher keeps a bounded queue keyed by incident, so a flapping event costs one entry,
not one per change; a sender task posts batches to `POST /api/v2/alerts`, re-sends active
events every `resend_interval` with `endsAt` a few intervals ahead (a daemon that dies lets
its alerts resolve by themselves), and posts `endsAt` = the end time when one resolves.
Failures back off with jitter and keep the queue; only a full queue drops (the oldest
entry, counted). The first failure is logged, and the recovery; the rest only counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import structlog

from sitroom import __version__
from sitroom.events import metrics as em
from sitroom.events.model import Event, Key
from sitroom.metrics.store import MetricWriter
from sitroom.supervisor import backoff_delay

log = structlog.get_logger("sitroom.events.alertmanager")
RETRY_BASE = 0.25


@dataclass
class Queued:
    event: Event
    measure_from: float | None  # monotonic start/end time to measure latency from, if any


Slot = tuple[Key, str]


def label_of(url: str) -> str:
    """A low-cardinality, secret-free name for an Alertmanager: host:port."""
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


class AlertmanagerPusher:
    def __init__(self, url: str, *, metrics: MetricWriter, active: Callable[[], Iterable[Event]],
                 generator_url: Callable[[Event], str], resend_interval: float,
                 timeout: float, capacity: int, max_batch: int, max_backoff: float) -> None:
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.name = label_of(url)
        self.metrics = metrics
        self._active = active
        self._generator_url = generator_url
        self.resend_interval = resend_interval
        self.ttl = 4 * resend_interval
        self.timeout = timeout
        self.capacity = capacity
        self.max_batch = max_batch
        self.max_backoff = max_backoff
        self.queue: OrderedDict[Slot, Queued] = OrderedDict()
        self.failing_since: float | None = None
        self.failures = 0
        self._wake = asyncio.Event()
        self._full_logged = False
        self._session: aiohttp.ClientSession | None = None
        lbl = {"alertmanager": self.name}
        metrics.set(em.QUEUE_CAPACITY, capacity, **lbl)
        metrics.set(em.QUEUE_LENGTH, 0, **lbl)
        metrics.inc(em.ALERTS_SENT, 0, **lbl)
        for reason in ("connect", "timeout", "http_5xx", "rejected", "queue_full"):
            metrics.inc(em.FAILURES, 0, reason=reason, **lbl)

    @property
    def healthy(self) -> bool:
        return self.failing_since is None

    # -- the sink side (synchronous, never blocks) ----------------------------------------

    def publish(self, change: str, before: Event | None, after: Event) -> None:
        self._enqueue(after, measure=change in ("new", "end"))

    def availability(self, kind: str, source: str, up: bool) -> None:
        """Availability is MQTT's business; Alertmanager hears about outages as events."""

    def _enqueue(self, event: Event, measure: bool) -> None:
        """Queue the newest version of an incident's start and, separately, its end: an end
        never swallows an unsent start, so an incident that began and ended while the
        Alertmanager was unreachable still reaches it, start first."""
        slot = (event.key, "firing" if event.active else "resolved")
        old = self.queue.pop(slot, None)
        since = event.raised if measure else None
        if old is not None and old.measure_from is not None:
            since = old.measure_from  # an unsent start that changed: still measured from it
        self.queue[slot] = Queued(event, since)
        while len(self.queue) > self.capacity:
            self.queue.popitem(last=False)
            self.metrics.inc(em.FAILURES, reason="queue_full", alertmanager=self.name)
            if not self._full_logged:
                self._full_logged = True
                log.error("alerting_queue_full", alertmanager=self.name,
                          capacity=self.capacity, note="oldest alerts dropped; counted")
        self.metrics.set(em.QUEUE_LENGTH, len(self.queue), alertmanager=self.name)
        self._wake.set()

    def _resend_active(self) -> None:
        for event in self._active():
            slot = (event.key, "firing")
            if slot not in self.queue:
                self.queue[slot] = Queued(event, None)
        self.metrics.set(em.QUEUE_LENGTH, len(self.queue), alertmanager=self.name)

    # -- the sender task ------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_resend = loop.time() + self.resend_interval
        try:
            while True:
                if not self.queue:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(),
                                               max(0.0, next_resend - loop.time()))
                if loop.time() >= next_resend:
                    next_resend = loop.time() + self.resend_interval
                    self._resend_active()
                if not self.queue:
                    continue
                if await self._send_batch():
                    continue
                delay = backoff_delay(self.failures, RETRY_BASE, self.max_backoff)
                self._wake.clear()
                await asyncio.sleep(delay)
        finally:
            if self._session is not None:
                await self._session.close()

    async def flush(self, deadline: float) -> None:
        """At shutdown: try to send what is queued (ends especially) within `deadline`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline):
                while self.queue and await self._send_batch():
                    pass

    def _session_for_run(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": f"sitroom/{__version__}"})
        return self._session

    async def _send_batch(self) -> bool:
        batch: list[tuple[Slot, Queued]] = []
        seen: set[Key] = set()
        for slot, queued in self.queue.items():
            if slot[0] in seen or len(batch) >= self.max_batch:
                break  # an incident's end goes in the post after its start
            seen.add(slot[0])
            batch.append((slot, queued))
        now = time.time()
        body = json.dumps([q.event.to_alert(now, self.ttl, self._generator_url(q.event))
                           for _, q in batch]).encode()
        reason = None
        try:
            async with self._session_for_run().post(
                    self.url, data=body, headers={"Content-Type": "application/json"}) as resp:
                status = resp.status
                await resp.read()
        except TimeoutError:
            reason = "timeout"
        except (aiohttp.ClientError, OSError):
            reason = "connect"
        else:
            if 200 <= status < 300:
                self._delivered(batch)
                return True
            if 400 <= status < 500:  # the alerts themselves are refused: retrying won't help
                self._drop(batch)
                self.metrics.inc(em.FAILURES, reason="rejected", alertmanager=self.name)
                log.error("alerting_batch_rejected", alertmanager=self.name, status=status,
                          alerts=len(batch))
                return True
            reason = "http_5xx"
        self._failed(reason)
        return False

    def _delivered(self, batch: list[tuple[Slot, Queued]]) -> None:
        mono = time.monotonic()
        for _slot, queued in batch:
            if queued.measure_from is not None:
                self.metrics.observe(em.DELIVERY_LATENCY, max(0.0, mono - queued.measure_from),
                                     alertmanager=self.name)
        self._drop(batch)
        self.metrics.inc(em.ALERTS_SENT, len(batch), alertmanager=self.name)
        if self.failing_since is not None:
            log.info("alerting_recovered", alertmanager=self.name, failures=self.failures,
                     down_seconds=round(time.monotonic() - self.failing_since, 1))
        self.failing_since = None
        self.failures = 0

    def _drop(self, batch: list[tuple[Slot, Queued]]) -> None:
        for key, queued in batch:
            if self.queue.get(key) is queued:  # not replaced by a newer version meanwhile
                del self.queue[key]
        self.metrics.set(em.QUEUE_LENGTH, len(self.queue), alertmanager=self.name)

    def _failed(self, reason: str) -> None:
        self.failures += 1
        self.metrics.inc(em.FAILURES, reason=reason, alertmanager=self.name)
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.warning("alerting_failing", alertmanager=self.name, reason=reason,
                        queued=len(self.queue), note="retrying with backoff; logged once")
