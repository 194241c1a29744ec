"""Schedule arithmetic: planned progress at a moment, deviation, and "kontrak kritis".

Indonesian public works track progress against a cumulative plan (the "kurva S"): a
contract whose actual progress lags the plan by more than a threshold is a "kontrak
kritis" and must be reviewed (show-cause meetings, SCM). Percentages are what agencies
report; everything leaving this module is a ratio (0..1) as Prometheus expects.

Dates are whole local days. A plan point dated D means "reached by the start of D"; the
contract starts at the start of `start_date` (0 %) and is due at the end of `end_date`
(100 %), which is also the deadline timestamp.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)


def day_start(day: date, zone: ZoneInfo) -> float:
    """Unix seconds at local midnight starting `day`."""
    return datetime.combine(day, time(0), tzinfo=zone).timestamp()


def deadline(end_date: date, zone: ZoneInfo) -> float:
    """End of the last contract day (local), as Unix seconds."""
    return day_start(end_date + DAY, zone)


@dataclass(frozen=True)
class PlanCurve:
    """Cumulative planned percent as (unix seconds, percent) points, strictly by time."""

    points: tuple[tuple[float, float], ...]

    @classmethod
    def build(
        cls,
        start: date,
        end: date,
        curve: tuple[tuple[date, float], ...],
        zone: ZoneInfo,
    ) -> PlanCurve:
        """The agency's points plus the implicit anchors: 0 % at the start, 100 % at the end.

        An anchor is added only where the curve says nothing: a curve that already has a
        point on or before the start (or at or after the deadline) keeps its own value.
        """
        points = sorted((day_start(d, zone), p) for d, p in curve)
        begin, finish = day_start(start, zone), deadline(end, zone)
        if not points or points[0][0] > begin:
            points.insert(0, (begin, 0.0))
        if points[-1][0] < finish:
            points.append((finish, 100.0))
        merged: list[tuple[float, float]] = []
        for at, percent in points:  # same day twice: the later entry wins
            if merged and merged[-1][0] == at:
                merged[-1] = (at, percent)
            else:
                merged.append((at, percent))
        return cls(tuple(merged))

    def percent_at(self, when: float) -> float:
        """Linear between points; the first value before the curve, the last after it."""
        times = [at for at, _ in self.points]
        index = bisect.bisect_right(times, when)
        if index == 0:
            return self.points[0][1]
        if index == len(self.points):
            return self.points[-1][1]
        (t0, p0), (t1, p1) = self.points[index - 1], self.points[index]
        return p0 + (p1 - p0) * (when - t0) / (t1 - t0)


@dataclass(frozen=True)
class CriticalRule:
    """Deviation thresholds in percentage points (negative: behind plan).

    `late_points`, when set, applies once the plan is past `late_from_percent` (the
    Ministry of Public Works practice: 10 points early in a contract, 5 points late in it).
    """

    points: float = -10.0
    late_points: float | None = None
    late_from_percent: float = 70.0

    def threshold(self, planned_percent: float) -> float:
        if self.late_points is not None and planned_percent > self.late_from_percent:
            return self.late_points
        return self.points

    def is_critical(self, planned_percent: float, actual_percent: float) -> bool:
        """Strictly below the threshold; a finished contract is never critical."""
        if actual_percent >= 100.0:
            return False
        deviation = round(actual_percent - planned_percent, 9)  # no float-noise flags
        return deviation < self.threshold(planned_percent)
