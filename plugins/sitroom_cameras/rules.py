"""Turning per-frame readings into events: suspicious activity, loitering, line crossings,
tamper, frozen.

A reading is noisy frame to frame; an event is a condition that has held for a while. Each
(zone, rule) pair has a tracker that counts the rising edge once (the counter operators
alert on) and reports whether the condition still holds (the active gauge). Runs on the
event loop: it is a handful of comparisons per frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sitroom_cameras.config import DAYS, LineConfig, Window, ZoneConfig, parse_hhmm
from sitroom_cameras.tracker import Crossing


def in_window(window: Window, when: datetime) -> bool:
    """True when local time `when` falls in the window; windows may cross midnight."""
    start, end = parse_hhmm(window.start), parse_hhmm(window.end)
    now = when.time().replace(second=0, microsecond=0)
    today = DAYS[when.weekday()]
    yesterday = DAYS[(when.weekday() - 1) % 7]
    if start <= end:
        return today in window.days and start <= now < end
    # crosses midnight: the part after midnight belongs to the previous day's window
    return (today in window.days and now >= start) or (yesterday in window.days and now < end)


class Fired(NamedTuple):
    """An event that started: (zone or line, rule), and the tracked object behind it."""

    zone: str
    rule: str
    track: int | None = None


@dataclass
class Tracker:
    """A condition that must hold `hold` seconds to become active."""

    hold: float = 0.0
    since: float | None = None
    active: bool = False

    def update(self, condition: bool, now: float) -> bool:
        """Feed one reading; True exactly when the event becomes active."""
        if not condition:
            self.since, self.active = None, False
            return False
        if self.since is None:
            self.since = now
        if not self.active and now - self.since >= self.hold:
            self.active = True
            return True
        return False


class Rules:
    """All trackers of one camera, keyed by (zone, rule); zone '' is the whole picture."""

    def __init__(self, zones: list[ZoneConfig], tamper_after: float, frozen_after: float,
                 lines: Iterable[LineConfig] = ()) -> None:
        self.zones = {z.name: z for z in zones}
        self.lines = {line.name: line for line in lines}
        self._tamper_after = tamper_after
        self._frozen_after = frozen_after
        self.trackers: dict[tuple[str, str], Tracker] = {}
        self.presence_since: dict[str, float] = {}
        self.object_dwell: dict[str, float] = {}  # zone -> longest dwell of a tracked person
        self._loitered: dict[str, set[int]] = {}  # zone -> tracks that already raised it
        self._last_crossing: dict[str, float] = {}  # line -> its latest event crossing

    def _tracker(self, zone: str, rule: str, hold: float = 0.0) -> Tracker:
        key = (zone, rule)
        if key not in self.trackers:
            self.trackers[key] = Tracker(hold)
        return self.trackers[key]

    def dwell(self, zone: str, now: float) -> float:
        """How long presence has lasted: the longest-staying tracked person where the zone
        counts people, else how long motion has gone on."""
        if zone in self.object_dwell:
            return self.object_dwell[zone]
        since = self.presence_since.get(zone)
        return 0.0 if since is None else now - since

    def evaluate(
        self,
        now: float,
        local: datetime,
        presence: dict[str, bool],
        tamper: str | None,
        frozen_seconds: float,
        dwell: dict[str, dict[int, float]] | None = None,
        crossings: Iterable[Crossing] = (),
    ) -> list[Fired]:
        """Update every tracker; return the events that started now.

        `dwell` (zone -> tracked person -> seconds inside) makes loitering per person: each
        person who stays `loiter_after` raises it once however long they stay, and a missed
        detection does not restart the clock (the track survives it). Without it loitering
        falls back to how long presence has lasted.
        """
        started: list[Fired] = []

        def feed(zone: str, rule: str, condition: bool, hold: float = 0.0) -> None:
            if self._tracker(zone, rule, hold).update(condition, now):
                started.append(Fired(zone, rule))

        for name, zone in self.zones.items():
            present = presence.get(name, False)
            if present:
                self.presence_since.setdefault(name, now)
            else:
                self.presence_since.pop(name, None)
            if zone.restricted:
                closed = any(in_window(w, local) for w in zone.restricted)
                feed(name, "suspicious_activity", present and closed)
            tracked = dwell.get(name) if dwell is not None and zone.presence == "people" else None
            if tracked is not None:
                self.object_dwell[name] = max(tracked.values(), default=0.0)
            else:
                self.object_dwell.pop(name, None)
            if zone.loiter_after is None:
                continue
            if tracked is None:
                feed(name, "loitering", present and self.dwell(name, now) >= zone.loiter_after)
                continue
            started += self._loitering(name, float(zone.loiter_after), tracked)
        started += self._line_crossings(now, local, crossings)
        for kind in ("covered", "blinded", "defocused", "moved"):
            feed("", f"tamper_{kind}", tamper == kind, self._tamper_after)
        feed("", "frozen", frozen_seconds >= self._frozen_after)
        return started

    def _line_crossings(self, now: float, local: datetime, crossings: Iterable[Crossing]
                        ) -> list[Fired]:
        """One event per matching crossing (its object's snapshot, the counter); the line's
        rule stays active until `resolve_after` passes without another, so the pushed alert
        is one incident per burst of crossings rather than a fire-and-resolve per frame."""
        fired = []
        for crossing in crossings:
            line = self.lines.get(crossing.line)
            event = line.event if line is not None else None
            if (event is not None and crossing.direction == event.direction
                    and crossing.cls in event.classes
                    and (not event.during or any(in_window(w, local) for w in event.during))):
                fired.append(Fired(crossing.line, "line_crossing", crossing.track))
                self._last_crossing[crossing.line] = now
        for name, line in self.lines.items():
            if line.event is None:
                continue
            last = self._last_crossing.get(name)
            self._tracker(name, "line_crossing").active = (
                last is not None and now - last < float(line.event.resolve_after))
        return fired

    def _loitering(self, zone: str, after: float, tracked: dict[int, float]) -> list[Fired]:
        """One event per tracked person who stayed `after` seconds; active while any stays."""
        done = self._loitered.setdefault(zone, set())
        done &= set(tracked)  # forget people who left
        fired = [Fired(zone, "loitering", track) for track, seconds in sorted(tracked.items())
                 if seconds >= after and track not in done]
        done.update(f.track for f in fired if f.track is not None)
        self._tracker(zone, "loitering").active = bool(done)
        return fired

    def active(self) -> dict[tuple[str, str], bool]:
        return {key: t.active for key, t in self.trackers.items()}
