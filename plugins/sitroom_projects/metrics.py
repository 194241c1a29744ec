"""Metric families of the `projects` kind. Entity label: `project` (the project's id)."""

from __future__ import annotations

from sitroom.api import MetricSpec

P = ("project",)
INFO = MetricSpec(
    "sitroom_project_info",
    "info",
    "Descriptive labels of a city project (name, agency/dinas, district, category).",
    ("project", "name", "agency", "district", "category"),
)
PLANNED = MetricSpec(
    "sitroom_project_planned_progress_ratio",
    "gauge",
    "Planned cumulative progress now (kurva S), 0..1.",
    P,
    unit="ratio",
)
ACTUAL = MetricSpec(
    "sitroom_project_actual_progress_ratio",
    "gauge",
    "Reported physical progress, 0..1.",
    P,
    unit="ratio",
)
DEVIATION = MetricSpec(
    "sitroom_project_progress_deviation_ratio",
    "gauge",
    "Actual minus planned progress, -1..1 (negative: behind plan).",
    P,
    unit="ratio",
)
CRITICAL = MetricSpec(
    "sitroom_project_critical",
    "gauge",
    "1 if the contract is kritis: deviation below the configured threshold and not finished.",
    P,
)
THRESHOLD = MetricSpec(
    "sitroom_project_critical_threshold_ratio",
    "gauge",
    "The kontrak kritis threshold that applies to the project now (negative ratio).",
    P,
    unit="ratio",
)
CONTRACT_VALUE = MetricSpec(
    "sitroom_project_contract_value_rupiah",
    "gauge",
    "Contract value in rupiah.",
    P,
    unit="rupiah",
)
ABSORBED = MetricSpec(
    "sitroom_project_budget_absorbed_rupiah",
    "gauge",
    "Budget paid out so far (realisasi keuangan) in rupiah.",
    P,
    unit="rupiah",
)
ABSORPTION = MetricSpec(
    "sitroom_project_budget_absorption_ratio",
    "gauge",
    "Budget absorbed divided by contract value.",
    P,
    unit="ratio",
)
START = MetricSpec(
    "sitroom_project_start_timestamp_seconds",
    "gauge",
    "Contract start (local midnight) as Unix time.",
    P,
    unit="seconds",
)
DEADLINE = MetricSpec(
    "sitroom_project_deadline_timestamp_seconds",
    "gauge",
    "End of the last contract day (local) as Unix time.",
    P,
    unit="seconds",
)
INVALID = MetricSpec(
    "sitroom_projects_invalid_records",
    "gauge",
    "Records rejected in the last load (see /api/v1/sources for row and field).",
)
PER_PROJECT = (
    INFO,
    PLANNED,
    ACTUAL,
    DEVIATION,
    CRITICAL,
    THRESHOLD,
    CONTRACT_VALUE,
    ABSORBED,
    ABSORPTION,
    START,
    DEADLINE,
)
ALL = (*PER_PROJECT, INVALID)
