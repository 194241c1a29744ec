"""Kurva S interpolation, deviation and the "kontrak kritis" boundaries."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sitroom_projects.progress import CriticalRule, PlanCurve, day_start, deadline
from sitroom_projects.records import Project
from sitroom_projects.source import evaluate

WIB = ZoneInfo("Asia/Jakarta")


def at(day: str, hour: int = 0) -> float:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=WIB).timestamp()


def test_day_boundaries_are_local() -> None:
    assert day_start(date(2026, 3, 1), WIB) == at("2026-03-01")
    assert at("2026-03-01") - datetime.fromisoformat("2026-03-01T00:00:00+00:00").timestamp() \
        == -7 * 3600
    assert deadline(date(2026, 12, 15), WIB) == at("2026-12-16")


def test_linear_plan_without_curve() -> None:
    curve = PlanCurve.build(date(2026, 1, 1), date(2026, 1, 10), (), WIB)
    assert curve.percent_at(at("2025-12-31")) == 0
    assert curve.percent_at(at("2026-01-01")) == 0
    assert curve.percent_at(at("2026-01-06")) == pytest.approx(50.0)
    assert curve.percent_at(at("2026-01-01", 12)) == pytest.approx(5.0)
    assert curve.percent_at(at("2026-01-11")) == 100
    assert curve.percent_at(at("2027-01-01")) == 100


def test_curve_points_interpolate_with_implicit_anchors() -> None:
    points = ((date(2026, 1, 11), 10.0), (date(2026, 1, 21), 60.0))
    curve = PlanCurve.build(date(2026, 1, 1), date(2026, 1, 30), points, WIB)
    assert curve.percent_at(at("2026-01-06")) == pytest.approx(5.0)  # 0 -> 10 over 10 days
    assert curve.percent_at(at("2026-01-16")) == pytest.approx(35.0)
    assert curve.percent_at(at("2026-01-26")) == pytest.approx(80.0)  # 60 -> 100 at deadline
    assert curve.percent_at(at("2026-01-31")) == 100


def test_curve_that_covers_its_ends_keeps_its_own_values() -> None:
    points = ((date(2025, 12, 1), 3.0), (date(2026, 2, 1), 95.0))  # amended: 95 % at the end
    curve = PlanCurve.build(date(2026, 1, 1), date(2026, 1, 30), points, WIB)
    assert curve.percent_at(at("2025-11-01")) == 3.0
    assert curve.percent_at(at("2026-03-01")) == 95.0
    same_day = ((date(2026, 1, 11), 10.0), (date(2026, 1, 11), 20.0))
    curve = PlanCurve.build(date(2026, 1, 1), date(2026, 1, 30), same_day, WIB)
    assert curve.percent_at(at("2026-01-11")) == 20.0


@pytest.mark.parametrize(
    ("planned", "actual", "critical"),
    [
        (50.0, 40.0, False),  # exactly -10 points: on the threshold, not below it
        (50.0, 39.99, True),
        (50.0, 40.01, False),
        (0.3, 0.1, False),
        (100.0, 89.0, True),
        (100.0, 100.0, False),
        (60.0, 100.0, False),  # ahead of plan
        (30.0, 0.0, True),
    ],
)
def test_default_threshold_boundaries(planned: float, actual: float, critical: bool) -> None:
    assert CriticalRule().is_critical(planned, actual) is critical


def test_float_noise_does_not_flag_a_project() -> None:
    assert CriticalRule().is_critical(0.7 * 100, 0.6 * 100) is False  # 60.000000000000007


def test_late_stage_threshold() -> None:
    rule = CriticalRule(points=-10.0, late_points=-5.0, late_from_percent=70.0)
    assert rule.threshold(70.0) == -10.0 and rule.is_critical(70.0, 62.0) is False
    assert rule.threshold(70.5) == -5.0 and rule.is_critical(70.5, 65.0) is True
    assert rule.is_critical(80.0, 75.0) is False  # exactly -5
    assert rule.is_critical(80.0, 74.9) is True
    assert CriticalRule(points=-15.0).is_critical(80.0, 66.0) is False


def project(**fields: object) -> Project:
    base: dict[str, object] = {
        "id": "DPU-1", "name": "Jalan", "agency": "DPU", "district": "Tugu", "category": "jalan",
        "start_date": date(2026, 1, 1), "end_date": date(2026, 1, 10), "actual_percent": 30.0,
    }
    return Project(**{**base, **fields})  # type: ignore[arg-type]


def test_evaluate_combines_plan_actual_and_budget() -> None:
    ev = evaluate(project(contract_value=2e9, budget_absorbed=5e8), at("2026-01-06"), WIB,
                  CriticalRule())
    assert ev.planned_percent == pytest.approx(50.0)
    assert ev.deviation_points == pytest.approx(-20.0)
    assert ev.critical and ev.threshold_points == -10.0
    assert ev.absorption == pytest.approx(0.25)
    assert ev.deadline == at("2026-01-11") and ev.start == at("2026-01-01")


def test_reported_planned_percent_wins_over_the_curve() -> None:
    ev = evaluate(project(planned_percent=35.0), at("2026-01-06"), WIB, CriticalRule())
    assert ev.planned_percent == 35.0 and not ev.critical


def test_no_contract_value_means_no_absorption_ratio() -> None:
    assert evaluate(project(budget_absorbed=1.0), at("2026-01-06"), WIB, CriticalRule()) \
        .absorption is None
    assert evaluate(project(contract_value=0.0, budget_absorbed=1.0), at("2026-01-06"), WIB,
                    CriticalRule()).absorption is None
