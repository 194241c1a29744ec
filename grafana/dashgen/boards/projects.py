"""Pembangunan (city construction projects): which contracts are behind plan (kontrak kritis)?"""

from __future__ import annotations

from typing import Any

from dashgen.builders import (
    GREEN,
    ORANGE,
    RED,
    UID_OVERVIEW,
    UID_PROJECTS,
    YELLOW,
    Panel,
    Query,
    board_link,
    dashboard,
    district_var,
    query_var,
    source_var,
)
from dashgen.builders import SOURCE_MATCH as S

INFO = 'sitroom_project_info{district=~"$district", agency=~"$agency"}'


def proj(metric: str) -> str:
    return f"{metric}{{{S}}} * on(source, project) group_left(name, agency, district) {INFO}"


def build() -> dict[str, Any]:
    items = [
        Panel("stat", "Projects", [Query(f"count({proj('sitroom_project_actual_progress_ratio')})",
                                         instant=True)], w=4, h=4),
        Panel("stat", "Kontrak kritis", [Query(
            f"sum({proj('sitroom_project_critical')})", instant=True)], w=4, h=4,
              thresholds=[(None, GREEN), (1, RED)],
              description="Contracts whose progress is behind plan by more than their "
                          "kontrak kritis threshold, and not finished."),
        Panel("stat", "Mean deviation from plan", [Query(
            f"avg({proj('sitroom_project_progress_deviation_ratio')})", instant=True)],
              w=4, h=4, unit="percentunit", thresholds=[(None, RED), (-0.05, YELLOW),
                                                         (0, GREEN)]),
        Panel("stat", "Budget absorbed", [Query(
            f"sum({proj('sitroom_project_budget_absorbed_rupiah')}) / "
            f"sum({proj('sitroom_project_contract_value_rupiah')})", instant=True)],
              w=4, h=4, unit="percentunit", description="Realisasi keuangan over all "
              "contract values."),
        Panel("stat", "Contract value", [Query(
            f"sum({proj('sitroom_project_contract_value_rupiah')})", instant=True)],
              w=4, h=4, unit="currencyIDR"),
        Panel("stat", "Invalid records", [Query(
            f"sum(sitroom_projects_invalid_records{{{S}}})", instant=True)], w=4, h=4,
              thresholds=[(None, GREEN), (1, ORANGE)],
              description="Rows the last load rejected (see /api/v1/sources)."),
        Panel("bargauge", "Deviation from plan (actual - planned)", [Query(
            proj("sitroom_project_progress_deviation_ratio"), "{{name}}", instant=True)],
              w=12, h=12, unit="percentunit", min=-0.5, max=0.2,
              thresholds=[(None, RED), (-0.1, ORANGE), (-0.05, YELLOW), (0, GREEN)],
              options={"orientation": "horizontal", "displayMode": "lcd",
                       "reduceOptions": {"calcs": ["lastNotNull"]}}),
        Panel("table", "Projects", [
            Query(proj("sitroom_project_planned_progress_ratio"), instant=True, table=True),
            Query(proj("sitroom_project_actual_progress_ratio"), instant=True, table=True),
            Query(proj("sitroom_project_budget_absorption_ratio"), instant=True, table=True),
            Query(proj("sitroom_project_critical"), instant=True, table=True)],
              w=12, h=12, unit="percentunit",
              transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
                  "excludeByName": {"Time": True, "source": True, "job": True,
                                    "instance": True, "__name__": True},
                  "renameByName": {"Value #A": "planned", "Value #B": "actual",
                                   "Value #C": "budget absorbed", "Value #D": "kritis"}}}],
              overrides=[{"matcher": {"id": "byName", "options": "kritis"}, "properties": [
                  {"id": "unit", "value": "none"},
                  {"id": "mappings", "value": [{"type": "value", "options": {
                      "0": {"text": "", "index": 0},
                      "1": {"text": "KRITIS", "color": RED, "index": 1}}}]}]}]),
        Panel("timeseries", "Actual progress", [Query(
            proj("sitroom_project_actual_progress_ratio"), "{{name}}")], w=12, h=8,
              unit="percentunit", min=0, max=1),
        Panel("bargauge", "Days to deadline", [Query(
            f"({proj('sitroom_project_deadline_timestamp_seconds')} - time()) / 86400",
            "{{name}}", instant=True)], w=12, h=8, unit="d",
              thresholds=[(None, RED), (30, YELLOW), (90, GREEN)],
              options={"orientation": "horizontal", "displayMode": "basic"},
              links=[board_link("Situation Room", UID_OVERVIEW)]),
    ]
    return dashboard(
        UID_PROJECTS, "sitroom: Pembangunan (city projects)",
        "Planned vs actual progress (kurva S), kontrak kritis and budget absorption.",
        items, tags=["projects"], time_from="now-30d", refresh="5m",
        variables=[district_var(),
                   query_var("agency", "Dinas (agency)",
                             "label_values(sitroom_project_info, agency)"),
                   source_var("projects")],
    )
