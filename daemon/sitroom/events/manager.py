"""The event path's core: which incidents are active, and who hears about changes.

Plugins raise and clear conditions through their `ctx.events` handle; the manager turns
those into incidents (one per alertname, source and entity labels), applies the spec's hold
(a `for:` without a scrape), counts them, and hands each change to the sinks (Alertmanager
pushers, the MQTT publisher). Everything here is synchronous and O(1) per call, so a source
raising an event never waits on a network: the sinks queue and deliver in their own tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol

import structlog

from sitroom.events import metrics as em
from sitroom.events.links import LinkSigner, SnapshotFactory, SnapshotStore
from sitroom.events.model import Event, Key
from sitroom.events.spec import EventSpec
from sitroom.metrics.store import MetricWriter

log = structlog.get_logger("sitroom.events")


class Sink(Protocol):
    """Receives every change; must return at once (queue, never await)."""

    def publish(self, change: str, before: Event | None, after: Event) -> None: ...

    def availability(self, kind: str, source: str, up: bool) -> None: ...


class EventManager:
    def __init__(self, core: MetricWriter | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.core = core
        self.clock = clock
        self.sinks: list[Sink] = []
        self.signer: LinkSigner | None = None
        self.snapshots = SnapshotStore()
        # The runbooks page pushed events link to: the daemon sets the page it serves and
        # announces (sitroom_docs_info), as the rules' runbook_url does.
        self.runbooks = "docs/runbooks.md"
        self.active: dict[Key, Event] = {}
        self.by_id: dict[str, Event] = {}
        self.recent: dict[str, Event] = {}  # ended events whose links may still be opened
        self._pending: dict[Key, tuple[float, asyncio.TimerHandle | None, dict[str, Any]]] = {}

    # -- raising and clearing -------------------------------------------------------------

    def raise_(self, spec: EventSpec, kind: str, source: str, labels: dict[str, str],
               values: Mapping[str, Any], snapshot: SnapshotFactory | None) -> None:
        key: Key = (spec.name, source, tuple((n, labels[n]) for n in spec.labels))
        current = self.active.get(key)
        if current is not None:
            self._update(current, labels, values)
            return
        request = {"spec": spec, "kind": kind, "source": source, "labels": labels,
                   "values": dict(values), "snapshot": snapshot}
        pending = self._pending.get(key)
        if pending is not None:  # still holding: keep the first time, refresh the values
            self._pending[key] = (pending[0], pending[1], request)
            if self.clock() - pending[0] >= spec.hold:  # no timer (no loop), or it is late
                self._hold_over(key)
            return
        if spec.hold <= 0:
            self._activate(key, request, self.clock())
            return
        since = self.clock()
        handle = None
        with contextlib.suppress(RuntimeError):  # no loop (a synchronous test): the next
            handle = asyncio.get_running_loop().call_later(  # raise promotes it instead
                spec.hold, self._hold_over, key)
        self._pending[key] = (since, handle, request)

    def clear(self, spec: EventSpec, source: str, labels: Mapping[str, str]) -> None:
        key: Key = (spec.name, source, tuple((n, str(labels[n])) for n in spec.labels))
        self._end(key)

    def clear_source(self, source: str) -> None:
        """End every event of a source that is gone (removed by a reload)."""
        for key in [k for k in (*self._pending, *self.active) if k[1] == source]:
            self._end(key)

    def _hold_over(self, key: Key) -> None:
        pending = self._pending.pop(key, None)
        if pending is not None:
            since, handle, request = pending
            if handle is not None:
                handle.cancel()
            self._activate(key, request, since)

    def _activate(self, key: Key, request: dict[str, Any], since: float) -> None:
        spec: EventSpec = request["spec"]
        event_id = secrets.token_hex(8)
        snapshot: SnapshotFactory | None = request["snapshot"]
        annotations = self._annotations(spec, request["labels"], request["values"])
        if snapshot is not None:
            self.snapshots.capture(event_id, snapshot)
            if self.signer is not None:
                annotations["snapshot_url"] = self.signer.snapshot_url(event_id)
        event = Event(
            id=event_id, spec=spec, kind=request["kind"], source=request["source"],
            labels=self._labels(spec, request["source"], request["labels"]),
            annotations=annotations, starts_at=since, raised=time.monotonic(),
            values=request["values"])
        self.active[key] = event
        self.by_id[event_id] = event
        if self.core is not None:
            self.core.inc(em.EVENTS_RAISED, alertname=spec.name, kind=event.kind,
                          severity=spec.severity)
            self.core.inc(em.EVENTS_RESOLVED, 0, alertname=spec.name, kind=event.kind)
            self._count_active(spec, event.kind)
        log.info("event_started", alertname=spec.name, id=event_id, source=event.source,
                 **{n: event.labels[n] for n in spec.labels})
        self._publish("new", None, event)

    def _update(self, current: Event, labels: dict[str, str], values: Mapping[str, Any]) -> None:
        annotations = self._annotations(current.spec, labels, values)
        if "snapshot_url" in current.annotations:
            annotations["snapshot_url"] = current.annotations["snapshot_url"]
        new_labels = self._labels(current.spec, current.source, labels)
        if annotations == current.annotations and new_labels == current.labels:
            return
        updated = replace(current, annotations=annotations, labels=new_labels,
                          values=dict(values), raised=time.monotonic())
        self.active[current.key] = updated
        self.by_id[updated.id] = updated
        self._publish("update", current, updated)

    def _end(self, key: Key) -> None:
        pending = self._pending.pop(key, None)
        if pending is not None and pending[1] is not None:
            pending[1].cancel()
        current = self.active.pop(key, None)
        if current is None:
            return
        ended = current.ended(self.clock(), time.monotonic())
        self.by_id.pop(current.id, None)
        self.recent[current.id] = ended
        while len(self.recent) > self.snapshots.capacity:
            self.recent.pop(next(iter(self.recent)))
        if self.core is not None:
            self.core.inc(em.EVENTS_RESOLVED, alertname=current.spec.name, kind=current.kind)
            self._count_active(current.spec, current.kind)
        log.info("event_ended", alertname=current.spec.name, id=current.id, source=current.source)
        self._publish("end", current, ended)

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _labels(spec: EventSpec, source: str, labels: Mapping[str, str]) -> dict[str, str]:
        result = {"alertname": spec.name, "severity": spec.severity, "team": spec.team,
                  "source": source}
        for name in spec.labels + spec.info_labels:
            value = str(labels.get(name, ""))
            if value:  # like Prometheus: an empty label is no label
                result[name] = value
        return result

    def _annotations(self, spec: EventSpec, labels: Mapping[str, str],
                     values: Mapping[str, Any]) -> dict[str, str]:
        fields = {**labels, **values}
        summary, summary_id = spec.summary.render(fields)
        description, description_id = spec.description.render(fields)
        return {"summary": summary, "summary_id": summary_id, "description": description,
                "description_id": description_id,
                "runbook_url": f"{self.runbooks}#{spec.runbook_anchor}"}

    def _count_active(self, spec: EventSpec, kind: str) -> None:
        assert self.core is not None
        count = sum(1 for e in self.active.values() if e.spec.name == spec.name
                    and e.kind == kind)
        self.core.set(em.EVENTS_ACTIVE, count, alertname=spec.name, kind=kind,
                      severity=spec.severity, team=spec.team)

    def _publish(self, change: str, before: Event | None, after: Event) -> None:
        for sink in self.sinks:
            try:
                sink.publish(change, before, after)
            except Exception as exc:  # a sink bug must never reach the raising source
                log.error("event_sink_failed", sink=type(sink).__name__, error=str(exc),
                          exc_info=exc)

    def availability(self, kind: str, source: str, up: bool) -> None:
        for sink in self.sinks:
            try:
                sink.availability(kind, source, up)
            except Exception as exc:
                log.error("event_sink_failed", sink=type(sink).__name__, error=str(exc),
                          exc_info=exc)

    def find(self, event_id: str) -> Event | None:
        return self.by_id.get(event_id) or self.recent.get(event_id)

    def events(self) -> Iterable[Event]:
        return list(self.active.values())

    def close(self) -> None:
        for _, handle, _ in self._pending.values():
            if handle is not None:
                handle.cancel()
        self._pending.clear()
        self.snapshots.close()


class SourceEvents:
    """`ctx.events`: how one source raises and clears the events its kind declares.

        ctx.events.fire(FLOOD_SIAGA, sensor="bkb", location=..., level="4.30")
        ctx.events.resolve(FLOOD_SIAGA, sensor="bkb")
        ctx.events.set(PUMP_FAULT, fault == 1, station="s1", pump="P1")

    Labels named by the spec (`labels` and `info_labels`) become alert labels; every other
    keyword is a value for the texts only. `snapshot` is an async callable returning a JPEG
    of what raised the event (cameras): it runs once, when the event starts, and the alert
    carries a signed link to it. Calls after the source stopped are ignored.
    """

    def __init__(self, manager: EventManager | None, kind: str, source: str,
                 declared: Iterable[EventSpec] | None = None,
                 down_event: EventSpec | None = None) -> None:
        self._manager = manager or EventManager()
        self._kind = kind
        self._source = source
        # None: a context made outside the daemon (a plugin's own test) accepts any spec
        self._declared = None if declared is None else {spec.name: spec for spec in declared}
        self._down_event = down_event
        self._closed = False

    def health(self, up: bool) -> None:
        """The core's supervisor reports a source going up or failing (not for plugins)."""
        if self._closed:
            return
        self._manager.availability(self._kind, self._source, up)
        spec = self._down_event
        if spec is None:
            return
        if up:
            self._manager.clear(spec, self._source, {})
        else:
            self._manager.raise_(spec, self._kind, self._source, {}, {"source": self._source},
                                 None)

    @property
    def manager(self) -> EventManager:
        return self._manager

    def close(self) -> None:
        self._closed = True

    def fire(self, spec: EventSpec, /, *, snapshot: SnapshotFactory | None = None,
             **fields: Any) -> None:
        """Raise (or refresh) the condition; it becomes an event after the spec's hold."""
        if self._closed:
            return
        labels = self._check(spec, fields, allow_values=True)
        values = {k: v for k, v in fields.items() if k not in labels}
        self._manager.raise_(spec, self._kind, self._source, labels, values, snapshot)

    def resolve(self, spec: EventSpec, /, **labels: Any) -> None:
        """The condition is over: end the event (or drop it while it was still held)."""
        if self._closed:
            return
        self._check(spec, labels, allow_values=True)
        self._manager.clear(spec, self._source, {k: str(v) for k, v in labels.items()})

    def set(self, spec: EventSpec, active: bool, /, *,
            snapshot: SnapshotFactory | None = None, **fields: Any) -> None:
        """Level-triggered form: fire while `active`, resolve otherwise."""
        if active:
            self.fire(spec, snapshot=snapshot, **fields)
        else:
            self.resolve(spec, **{k: v for k, v in fields.items() if k in spec.labels})

    def is_active(self, spec: EventSpec, /, **labels: Any) -> bool:
        key: Key = (spec.name, self._source, tuple((n, str(labels[n])) for n in spec.labels))
        return key in self._manager.active

    def active(self) -> list[Event]:
        """This source's active events (tests, the API)."""
        return [e for e in self._manager.active.values() if e.source == self._source]

    def _check(self, spec: EventSpec, fields: Mapping[str, Any],
               allow_values: bool) -> dict[str, str]:
        declared = spec if self._declared is None else self._declared.get(spec.name)
        if declared is None or declared != spec:
            raise KeyError(f"event {spec.name!r} is not declared by kind {self._kind!r}")
        missing = [name for name in spec.labels if name not in fields]
        if missing:
            raise ValueError(f"event {spec.name}: missing labels {missing}")
        return {name: str(fields[name]) for name in spec.labels + spec.info_labels
                if name in fields}
