"""Constructors for Grafana dashboard JSON (schemaVersion 39, Grafana 10/11).

Why plain dicts instead of grafanalib or grafana-foundation-sdk: the dashboard model is a
stable, documented JSON schema, the boards use a handful of panel types, and a dict builder
adds no dependency (grafana-foundation-sdk ships with calendar-versioned epochs and follows
Grafana's own release train). What the builders add is consistency: one datasource variable,
one district/source filter convention, deterministic ids and a grid layout, so that a board
module reads like a list of questions an operator asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 39
DS: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
TAG = "sitroom"
FOLDER = "Situation Room"
RUNBOOKS_VAR = "runbooks"

# Where each board lives; panels link to each other by uid.
UID_OVERVIEW = "sitroom-overview"
UID_FLOOD = "sitroom-flood-pumps"
UID_CAMERAS = "sitroom-cameras"
UID_DAEMON = "sitroom-daemon"
UID_PROJECTS = "sitroom-pembangunan"
UID_TRAFFIC = "sitroom-lalu-lintas"
UID_SOCIAL = "sitroom-sosial"

# Colours that mean the same on every board.
GREEN, YELLOW, ORANGE, RED, BLUE, GREY = (
    "green", "yellow", "orange", "red", "blue", "text")


@dataclass(frozen=True)
class Query:
    """One PromQL target. `instant`+`table` for map and table panels, range otherwise."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


@dataclass
class Panel:
    """A panel before layout: `w`/`h` in grid units (24 columns)."""

    type: str
    title: str
    queries: Sequence[Query]
    w: int = 12
    h: int = 8
    description: str = ""
    unit: str = ""
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    thresholds: Sequence[tuple[float | None, str]] = ()
    mappings: Sequence[dict[str, Any]] = ()
    links: Sequence[dict[str, Any]] = ()
    options: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    overrides: Sequence[dict[str, Any]] = ()
    transformations: Sequence[dict[str, Any]] = ()


def steps(*pairs: tuple[float | None, str]) -> list[dict[str, Any]]:
    return [{"value": value, "color": color} for value, color in pairs]


def value_text(mapping: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """A value mapping: number -> (text, colour), e.g. the flood levels."""
    return {
        "type": "value",
        "options": {
            str(value): {"text": text, "color": color, "index": i}
            for i, (value, (text, color)) in enumerate(sorted(mapping.items()))
        },
    }


FLOOD_LEVELS = value_text({0: ("Normal", GREEN), 1: ("Waspada", YELLOW),
                           2: ("Siaga", ORANGE), 3: ("Awas", RED)})
ON_OFF = value_text({0: ("off", GREY), 1: ("on", GREEN)})


def board_link(title: str, uid: str, tooltip: str = "") -> dict[str, Any]:
    """A panel link to another sitroom board, keeping time range and variables."""
    return {"title": title, "url": f"/d/{uid}?${{__url_time_range}}&${{__all_variables}}",
            "tooltip": tooltip}


def runbook_link(alert: str) -> dict[str, Any]:
    """A panel link to the runbook section of an alert (docs/runbooks.md#<alert>)."""
    return {"title": f"Runbook: {alert}", "url": f"${{{RUNBOOKS_VAR}}}#{alert.lower()}",
            "targetBlank": True}


def in_district(expr: str, info: str, keys: str) -> str:
    """Filter a per-entity expression by the $district variable through its _info metric."""
    return f'{expr} * on({keys}) group_left() {info}{{district=~"$district"}}'


def _target(query: Query, ref: str) -> dict[str, Any]:
    target: dict[str, Any] = {
        "datasource": DS,
        "refId": ref,
        "expr": query.expr,
        "legendFormat": query.legend or "__auto",
        "range": not query.instant,
        "instant": query.instant,
    }
    if query.table:
        target["format"] = "table"
    return target


def _field_config(p: Panel) -> dict[str, Any]:
    defaults: dict[str, Any] = {"custom": dict(p.custom)}
    if p.unit:
        defaults["unit"] = p.unit
    if p.decimals is not None:
        defaults["decimals"] = p.decimals
    if p.min is not None:
        defaults["min"] = p.min
    if p.max is not None:
        defaults["max"] = p.max
    if p.thresholds:
        defaults["thresholds"] = {"mode": "absolute", "steps": steps(*p.thresholds)}
        defaults["color"] = {"mode": "thresholds"}
    if p.mappings:
        defaults["mappings"] = list(p.mappings)
    return {"defaults": defaults, "overrides": list(p.overrides)}


def render_panel(p: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    refs = "ABCDEFGHIJ"
    out: dict[str, Any] = {
        "id": panel_id,
        "type": p.type,
        "title": p.title,
        "description": p.description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": p.w, "h": p.h},
        "targets": [_target(q, refs[i]) for i, q in enumerate(p.queries)],
        "fieldConfig": _field_config(p),
        "options": dict(p.options),
    }
    if p.links:
        out["links"] = list(p.links)
    if p.transformations:
        out["transformations"] = list(p.transformations)
    return out


def row(title: str) -> dict[str, Any]:
    """A collapsible row header (rendered by `layout`)."""
    return {"type": "row", "title": title}


def layout(items: Iterable[Panel | dict[str, Any]]) -> list[dict[str, Any]]:
    """Place panels left to right, wrapping at 24 columns; rows start a new line."""
    panels: list[dict[str, Any]] = []
    x = y = line_h = 0
    next_id = 1
    for item in items:
        if isinstance(item, dict):  # a row
            y += line_h
            x = line_h = 0
            panels.append({"id": next_id, "type": "row", "title": item["title"],
                           "collapsed": False, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
                           "panels": []})
            y += 1
        else:
            if x + item.w > 24:
                y += line_h
                x = line_h = 0
            panels.append(render_panel(item, next_id, x, y))
            x += item.w
            line_h = max(line_h, item.h)
        next_id += 1
    return panels


# -- template variables -----------------------------------------------------------------

def datasource_var() -> dict[str, Any]:
    return {"name": "datasource", "label": "Prometheus", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0, "refresh": 1,
            "options": [], "regex": ""}


def query_var(name: str, label: str, query: str) -> dict[str, Any]:
    """A multi-value label variable with All = `.*`, refreshed on time-range change."""
    return {
        "name": name, "label": label, "type": "query", "datasource": DS,
        "definition": query, "query": {"query": query, "refId": f"var-{name}"},
        "includeAll": True, "multi": True, "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "refresh": 2, "sort": 1, "hide": 0, "options": [], "regex": "",
    }


def district_var() -> dict[str, Any]:
    return query_var("district", "Kecamatan (district)",
                     'label_values({__name__=~"sitroom_.+_info"}, district)')


SOURCE_MATCH = 'source=~"$source"'  # the label matcher for the `$source` variable below


def source_var(kinds_regex: str) -> dict[str, Any]:
    return query_var("source", "Source",
                     f'label_values(sitroom_source_up{{kind=~"{kinds_regex}"}}, source)')


def runbooks_var() -> dict[str, Any]:
    """Hidden textbox: where docs/runbooks.md is published (override with ?var-runbooks=)."""
    return {"name": RUNBOOKS_VAR, "label": "Runbooks URL", "type": "textbox", "hide": 2,
            "query": "docs/runbooks.md",
            "current": {"text": "docs/runbooks.md", "value": "docs/runbooks.md"},
            "options": []}


def dashboard(uid: str, title: str, description: str, items: Iterable[Panel | dict[str, Any]],
              *, variables: Sequence[dict[str, Any]], refresh: str = "30s",
              time_from: str = "now-6h", tags: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": [TAG, *tags],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": time_from, "to": "now"},
        "refresh": refresh,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "links": [{"title": "sitroom boards", "type": "dashboards", "tags": [TAG],
                   "asDropdown": True, "includeVars": True, "keepTime": True,
                   "icon": "external link", "targetBlank": False, "tooltip": "",
                   "url": ""},
                  {"title": "Runbooks", "type": "link", "url": f"${{{RUNBOOKS_VAR}}}",
                   "icon": "doc", "targetBlank": True, "asDropdown": False,
                   "includeVars": False, "keepTime": False, "tags": [], "tooltip": ""}],
        "templating": {"list": [datasource_var(), *variables, runbooks_var()]},
        "panels": layout(items),
    }


def panel_exprs(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) for every query target of a generated board."""
    return [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", [])]
