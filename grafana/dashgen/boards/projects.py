"""Pembangunan (city construction projects): which contracts are behind plan (kontrak kritis)?"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.models.common import BarGaugeDisplayMode, VizOrientation
from grafana_foundation_sdk.models.dashboard import DynamicConfigValue

from dashgen.builders import (
    GREEN,
    ORANGE,
    RED,
    UID_OVERVIEW,
    UID_PROJECTS,
    YELLOW,
    Item,
    board_link,
    dashboard,
    district_var,
    organize,
    prom,
    query_var,
    source_var,
    steps,
    transform,
    value_text,
)
from dashgen.builders import SOURCE_MATCH as S

INFO = 'sitroom_project_info{district=~"$district", agency=~"$agency"}'


def proj(metric: str) -> str:
    return f"{metric}{{{S}}} * on(source, project) group_left(name, agency, district) {INFO}"


def small(title: str, expr: str) -> stat.Panel:
    """A 4x4 stat of one instant query (the top row)."""
    return stat.Panel().title(title).with_target(prom(expr, instant=True)).span(4).height(4)


def build() -> dict[str, Any]:
    items: list[Item] = [
        small("Projects", f"count({proj('sitroom_project_actual_progress_ratio')})"),
        small("Kontrak kritis", f"sum({proj('sitroom_project_critical')})")
        .thresholds(steps((None, GREEN), (1, RED)))
        .description("Contracts whose progress is behind plan by more than their "
                     "kontrak kritis threshold, and not finished."),
        small("Mean deviation from plan",
              f"avg({proj('sitroom_project_progress_deviation_ratio')})")
        .unit("percentunit").thresholds(steps((None, RED), (-0.05, YELLOW), (0, GREEN))),
        small("Budget absorbed",
              f"sum({proj('sitroom_project_budget_absorbed_rupiah')}) / "
              f"sum({proj('sitroom_project_contract_value_rupiah')})")
        .unit("percentunit").description("Realisasi keuangan over all contract values."),
        small("Contract value", f"sum({proj('sitroom_project_contract_value_rupiah')})")
        .unit("currencyIDR"),
        small("Invalid records", f"sum(sitroom_projects_invalid_records{{{S}}})")
        .thresholds(steps((None, GREEN), (1, ORANGE)))
        .description("Rows the last load rejected (see /api/v1/sources)."),
        bargauge.Panel().title("Deviation from plan (actual - planned)").span(12).height(12)
        .with_target(prom(proj("sitroom_project_progress_deviation_ratio"), "{{name}}",
                          instant=True))
        .unit("percentunit").min(-0.5).max(0.2)
        .thresholds(steps((None, RED), (-0.1, ORANGE), (-0.05, YELLOW), (0, GREEN)))
        .orientation(VizOrientation.HORIZONTAL).display_mode(BarGaugeDisplayMode.LCD),
        table.Panel().title("Projects").span(12).height(12).unit("percentunit")
        .with_target(prom(proj("sitroom_project_planned_progress_ratio"), instant=True,
                          table=True))
        .with_target(prom(proj("sitroom_project_actual_progress_ratio"), instant=True,
                          table=True))
        .with_target(prom(proj("sitroom_project_budget_absorption_ratio"), instant=True,
                          table=True))
        .with_target(prom(proj("sitroom_project_critical"), instant=True, table=True))
        .with_transformation(transform("merge"))
        .with_transformation(organize(
            exclude=("Time", "source", "job", "instance", "__name__"),
            rename={"Value #A": "planned", "Value #B": "actual",
                    "Value #C": "budget absorbed", "Value #D": "kritis"}))
        .override_by_name("kritis", [
            DynamicConfigValue(id_val="unit", value="none"),
            DynamicConfigValue(id_val="mappings", value=[
                value_text({0: ("", ""), 1: ("KRITIS", RED)})])]),
        timeseries.Panel().title("Actual progress").span(12).height(8).unit("percentunit")
        .min(0).max(1)
        .with_target(prom(proj("sitroom_project_actual_progress_ratio"), "{{name}}")),
        bargauge.Panel().title("Days to deadline").span(12).height(8).unit("d")
        .with_target(prom(f"({proj('sitroom_project_deadline_timestamp_seconds')} - time())"
                          " / 86400", "{{name}}", instant=True))
        .thresholds(steps((None, RED), (30, YELLOW), (90, GREEN)))
        .orientation(VizOrientation.HORIZONTAL).display_mode(BarGaugeDisplayMode.BASIC)
        .links([board_link("Situation Room", UID_OVERVIEW)]),
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
