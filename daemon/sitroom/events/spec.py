"""What a plugin declares about an event it may raise: name, severity, team, wording.

An event is an alert that does not wait for a scrape: the plugin raises it the moment it
decides, and the core delivers it (Alertmanager, MQTT). Declaring it up front, like a
MetricSpec, lets the core refuse typos in labels, list every event in the docs, and keep
the wording next to the Prometheus rule it mirrors (same alertname, same team, same text).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Severity = Literal["info", "warning", "critical"]

_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]{2,63}$")
_LABEL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_RESERVED = frozenset({"alertname", "severity", "team", "source", "kind", "job", "instance"})
_TEAM = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Text:
    """One sentence in English and Bahasa Indonesia, as `str.format` templates.

    The fields are the event's labels plus the values the plugin passes when it raises the
    event. A field that is not given renders empty, so optional parts are passed ready-made
    (e.g. `where=" (Bendung Simongan, Semarang Barat)"` or `where=""`).
    """

    en: str
    id: str

    def fields(self) -> set[str]:
        names: set[str] = set()
        for template in (self.en, self.id):
            for _, field, _, _ in string.Formatter().parse(template):
                if field:
                    names.add(field.split(".")[0].split("[")[0])
        return names

    def render(self, values: Mapping[str, object]) -> tuple[str, str]:
        filled = _Blank(values)
        return self.en.format_map(filled).strip(), self.id.format_map(filled).strip()


class _Blank(dict[str, object]):
    def __init__(self, values: Mapping[str, object]) -> None:
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class EventSpec:
    """An event a source kind may raise.

    `name` is the Alertmanager `alertname` and matches the Prometheus rule that covers the
    same condition (the rule holds back while the push path works, see docs/operations.md).
    `labels` are the entity labels that identify one incident (`sensor`, `camera`+`zone`);
    the core adds `alertname`, `severity`, `team` and `source`. `info_labels` are extra
    descriptive labels (location, district) sent with the alert, as the rule's joins do.
    `hold` is the rule's `for:`: the condition must stay raised this long before the event
    becomes active; 0 for events whose source already debounced them.
    """

    name: str
    severity: Severity
    team: str
    summary: Text
    description: Text
    labels: tuple[str, ...] = ()
    info_labels: tuple[str, ...] = ()
    hold: float = 0.0
    runbook: str = ""

    def __post_init__(self) -> None:
        if not _ALERT_NAME.match(self.name):
            raise ValueError(f"event {self.name!r}: names are CamelCase alert names")
        if self.severity not in ("info", "warning", "critical"):
            raise ValueError(f"event {self.name!r}: severity must be info, warning or critical")
        if not _TEAM.match(self.team):
            raise ValueError(f"event {self.name!r}: invalid team {self.team!r}")
        every = self.labels + self.info_labels
        for label in every:
            if not _LABEL_NAME.match(label) or label in _RESERVED:
                raise ValueError(f"event {self.name!r}: invalid or reserved label {label!r}")
        if len(set(every)) != len(every):
            raise ValueError(f"event {self.name!r}: duplicate label names")
        if self.hold < 0:
            raise ValueError(f"event {self.name!r}: hold must not be negative")

    @property
    def runbook_anchor(self) -> str:
        return self.runbook or self.name.lower()

    @property
    def runbook_url(self) -> str:
        """The runbook in the repository; pushed events link the daemon's page instead."""
        return f"docs/runbooks.md#{self.runbook_anchor}"
