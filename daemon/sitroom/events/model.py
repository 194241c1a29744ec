"""One raised event (an incident) and the Alertmanager v2 alert it becomes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sitroom.events.spec import EventSpec

Key = tuple[str, str, tuple[tuple[str, str], ...]]
"""(alertname, source, entity labels): what makes two raises the same incident."""


def iso(ts: float) -> str:
    """RFC 3339 with milliseconds and Z, as Alertmanager's API writes it."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


@dataclass(frozen=True)
class Event:
    """An immutable version of one incident; every change makes a new version.

    `raised` is the monotonic time of the decision this version carries (became active,
    changed, ended), which is what delivery latency is measured from.
    """

    id: str
    spec: EventSpec
    kind: str
    source: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    raised: float
    ends_at: float | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        entity = tuple((name, self.labels[name]) for name in self.spec.labels)
        return (self.spec.name, self.source, entity)

    @property
    def active(self) -> bool:
        return self.ends_at is None

    def ended(self, at: float, raised: float) -> Event:
        return replace(self, ends_at=at, raised=raised)

    def to_alert(self, now: float, ttl: float, generator_url: str) -> dict[str, Any]:
        """The Alertmanager v2 `postableAlert`. A firing alert ends `ttl` from now unless
        re-sent, so alerts of a daemon that died resolve by themselves."""
        return {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": iso(self.starts_at),
            "endsAt": iso(self.ends_at if self.ends_at is not None else now + ttl),
            "generatorURL": generator_url,
        }

    def to_json(self) -> dict[str, Any]:
        """The MQTT / API view (Frigate-style `before`/`after` objects)."""
        return {
            "id": self.id,
            "alertname": self.spec.name,
            "kind": self.kind,
            "source": self.source,
            "severity": self.spec.severity,
            "team": self.spec.team,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "start_time": self.starts_at,
            "end_time": self.ends_at,
            "active": self.active,
        }
