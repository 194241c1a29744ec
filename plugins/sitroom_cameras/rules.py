"""Turning per-frame readings into events: suspicious activity, loitering, tamper, frozen.

A reading is noisy frame to frame; an event is a condition that has held for a while. Each
(zone, rule) pair has a tracker that counts the rising edge once (the counter operators
alert on) and reports whether the condition still holds (the active gauge). Runs on the
event loop: it is a handful of comparisons per frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sitroom_cameras.config import DAYS, Window, ZoneConfig, parse_hhmm


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

    def __init__(self, zones: list[ZoneConfig], tamper_after: float, frozen_after: float) -> None:
        self.zones = {z.name: z for z in zones}
        self._tamper_after = tamper_after
        self._frozen_after = frozen_after
        self.trackers: dict[tuple[str, str], Tracker] = {}
        self.presence_since: dict[str, float] = {}

    def _tracker(self, zone: str, rule: str, hold: float = 0.0) -> Tracker:
        key = (zone, rule)
        if key not in self.trackers:
            self.trackers[key] = Tracker(hold)
        return self.trackers[key]

    def dwell(self, zone: str, now: float) -> float:
        since = self.presence_since.get(zone)
        return 0.0 if since is None else now - since

    def evaluate(
        self,
        now: float,
        local: datetime,
        presence: dict[str, bool],
        tamper: str | None,
        frozen_seconds: float,
    ) -> list[tuple[str, str]]:
        """Update every tracker; return the (zone, rule) events that started now."""
        started: list[tuple[str, str]] = []

        def feed(zone: str, rule: str, condition: bool, hold: float = 0.0) -> None:
            if self._tracker(zone, rule, hold).update(condition, now):
                started.append((zone, rule))

        for name, zone in self.zones.items():
            present = presence.get(name, False)
            if present:
                self.presence_since.setdefault(name, now)
            else:
                self.presence_since.pop(name, None)
            if zone.restricted:
                closed = any(in_window(w, local) for w in zone.restricted)
                feed(name, "suspicious_activity", present and closed)
            if zone.loiter_after is not None:
                feed(name, "loitering", present and self.dwell(name, now) >= zone.loiter_after)
        for kind in ("covered", "blinded", "defocused", "moved"):
            feed("", f"tamper_{kind}", tamper == kind, self._tamper_after)
        feed("", "frozen", frozen_seconds >= self._frozen_after)
        return started

    def active(self) -> dict[tuple[str, str], bool]:
        return {key: t.active for key, t in self.trackers.items()}
