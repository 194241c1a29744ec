"""The `cap_feed` source: fetch an index (or one CAP document), the CAP files it links,
and publish the active alerts as bounded gauges.

A CAP file never changes once published (a change is a new alert that references the old
one), so each linked file is fetched once and remembered while the index still lists it:
BMKG allows about 60 requests a minute, and a poll costs one request plus the new files.
Links may point only at the index's own host (or `link_hosts`), so a hostile index cannot
turn the daemon into a proxy towards internal addresses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from sitroom.api import (
    HostileFeed,
    MalformedXml,
    MetricSpec,
    PollingSource,
    SourceContext,
    SourceError,
    fetch_bytes,
    parse_xml_safely,
    redact_url,
)
from sitroom_warnings.areas import OUTSIDE, alert_areas
from sitroom_warnings.cap import Alert, Document, Refused, read_document
from sitroom_warnings.config import CapFeedConfig
from sitroom_warnings.metrics import (
    CAP_ALERT_EXPIRES,
    CAP_ALERTS_ACTIVE,
    CAP_ALERTS_RECEIVED,
    CAP_ALERTS_REFUSED,
    CAP_DOCUMENTS,
    CAP_FLOOD_STATE,
)

FLOOD_STATES = {"Unknown": 1, "Minor": 2, "Moderate": 3, "Severe": 4, "Extreme": 4}
FLOOD_WORDS = ("flood", "banjir", "genangan", "rob")
OTHER_EVENT = "other"
MAX_REMEMBERED = 10_000


def is_flood(event: str) -> bool:
    lowered = event.lower()
    return any(word in lowered for word in FLOOD_WORDS)


class CapFeed(PollingSource):
    config: CapFeedConfig
    clock: Callable[[], float] = staticmethod(time.time)  # wall clock; tests move it

    def __init__(self, config: CapFeedConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.url = str(config.url)
        self.shown = redact_url(self.url)
        base = urlsplit(self.url)
        self.link_origins = {(base.scheme, base.hostname, base.port)}
        self.link_hosts = {h.lower() for h in config.link_hosts}
        self.files: dict[str, list[Alert]] = {}  # linked CAP file -> its alerts
        self.seen: set[str] = set()  # alert keys already counted as received
        self.events: dict[str, str] = {}  # event text -> label value (bounded)
        self.written: dict[str, set[tuple[str, ...]]] = {}

    # -- fetching --------------------------------------------------------------------------

    def _refuse(self, reason: str, amount: int = 1) -> None:
        self.metrics.inc(CAP_ALERTS_REFUSED, amount, reason=reason)

    async def _document(self, url: str, deadline: float, now: float) -> Document:
        """Fetch and parse one document; `Refused` (counted by the caller) on bad XML."""
        body = await fetch_bytes(self.ctx.http(), url,
                                 time_limit=max(0.1, deadline - time.monotonic()),
                                 max_bytes=self.config.max_bytes)
        self.metrics.inc(CAP_DOCUMENTS)
        try:
            root = await self.ctx.run_blocking(parse_xml_safely, body)
        except HostileFeed as exc:
            raise Refused("hostile_xml", str(exc)) from None
        except MalformedXml as exc:
            raise Refused("malformed_xml", str(exc)) from None
        return read_document(root, default_expiry=float(self.config.default_expiry), now=now)

    def _link_allowed(self, link: str) -> bool:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or "@" in parts.netloc:
            return False
        return ((parts.scheme, parts.hostname, parts.port) in self.link_origins
                or (parts.hostname or "").lower() in self.link_hosts)

    async def collect(self) -> None:
        now = self.clock()
        deadline = time.monotonic() + float(self.config.timeout) * 0.9
        try:
            index = await self._document(self.url, deadline, now)
        except SourceError as exc:
            if exc.reason == "too_large":
                self._refuse("too_large")
            raise
        except Refused as exc:
            self._refuse(exc.reason)
            raise SourceError(exc.reason, f"{self.shown}: {exc}") from None
        for reason in index.refused:
            self._refuse(reason)
        alerts = list(index.alerts)
        if index.links or not index.alerts:
            alerts += await self._linked(index.links, deadline, now)
        self._publish(alerts, now)
        self.ctx.set_detail("files", len(self.files))

    async def _linked(self, links: list[str], deadline: float, now: float) -> list[Alert]:
        alerts: list[Alert] = []
        listed: set[str] = set()
        fetched = 0
        for link in links:
            absolute = urljoin(self.url, link)
            if not self._link_allowed(absolute):
                self._refuse("foreign_link")
                continue
            listed.add(absolute)
            if absolute in self.files:
                alerts += self.files[absolute]
                continue
            if fetched >= self.config.max_documents or time.monotonic() > deadline:
                continue  # the rest on the next poll
            fetched += 1
            try:
                document = await self._document(absolute, deadline, now)
            except SourceError as exc:  # transport: try again next poll
                self._refuse("too_large" if exc.reason == "too_large" else "fetch")
                continue
            except Refused as exc:
                self._refuse(exc.reason)
                self.files[absolute] = []  # a refused file is not fetched again
                continue
            for reason in document.refused:
                self._refuse(reason)
            self.files[absolute] = document.alerts
            alerts += document.alerts
        for gone in set(self.files) - listed:
            del self.files[gone]
        return alerts

    # -- publishing ------------------------------------------------------------------------

    def _event_label(self, event: str) -> str:
        label = self.events.get(event)
        if label is None:
            label = event[:60] if len(self.events) < self.config.max_events else OTHER_EVENT
            self.events[event] = label
        return label

    def _publish(self, alerts: list[Alert], now: float) -> None:
        by_key: dict[str, Alert] = {}
        withdrawn: set[str] = set()
        for alert in alerts:
            if alert.key not in self.seen:
                if len(self.seen) > MAX_REMEMBERED:
                    self.seen.clear()
                self.seen.add(alert.key)
                self.metrics.inc(CAP_ALERTS_RECEIVED, msg_type=alert.msg_type)
                if alert.msg_type != "Cancel" and alert_areas(alert) == {OUTSIDE} \
                        and not self.config.keep_outside:
                    self._refuse("outside")
            if alert.msg_type in ("Update", "Cancel"):
                withdrawn.update(alert.references)
            if alert.msg_type != "Cancel":
                by_key[alert.key] = alert
        counts: dict[tuple[str, ...], float] = {}
        expiry: dict[tuple[str, ...], float] = {}
        flood: dict[tuple[str, ...], float] = {}
        for key, alert in by_key.items():
            if key in withdrawn or not (alert.effective <= now < (alert.expires or now)):
                continue
            areas = alert_areas(alert)
            if areas == {OUTSIDE} and not self.config.keep_outside:
                continue
            event = self._event_label(alert.event)
            for area in sorted(areas):
                labels = (event, alert.severity, alert.urgency, alert.certainty, area)
                counts[labels] = counts.get(labels, 0) + 1
                expiry[(event, area)] = max(expiry.get((event, area), 0.0), alert.expires or 0)
                if self.config.flood_states and is_flood(alert.event):
                    state = float(FLOOD_STATES[alert.severity])
                    flood[(area,)] = max(flood.get((area,), 0.0), state)
        self._write(CAP_ALERTS_ACTIVE, counts)
        self._write(CAP_ALERT_EXPIRES, expiry)
        self._write(CAP_FLOOD_STATE, flood)
        self.ctx.set_detail("active_alerts", len([k for k in by_key if k not in withdrawn]))

    def _write(self, spec: MetricSpec, values: dict[tuple[str, ...], float]) -> None:
        """Set this poll's series and withdraw last poll's that are gone (expired alerts)."""
        for labels, value in values.items():
            self.metrics.set(spec, value, **dict(zip(spec.labels, labels, strict=True)))
        for labels in self.written.get(spec.name, set()) - set(values):
            self.metrics.remove(spec, **dict(zip(spec.labels, labels, strict=True)))
        self.written[spec.name] = set(values)
