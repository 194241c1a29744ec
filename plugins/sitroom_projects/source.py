"""The `projects` polling source: load the list, evaluate each project now, write, forget.

Loading and parsing run off the event loop (a city-wide spreadsheet is a few MB). A bad row
costs that row only; a document that cannot be read at all fails the poll and keeps the
last good values, since a half-saved file should not blank the Pembangunan board.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sitroom.api import PollingSource, SourceContext, SourceError, fetch_bytes
from sitroom_projects import metrics as m
from sitroom_projects.config import ProjectsConfig
from sitroom_projects.progress import CriticalRule, PlanCurve, day_start, deadline
from sitroom_projects.records import FormatError, ParseResult, Project, parse_csv, parse_json

MAX_LOGGED_ERRORS = 20


@dataclass(frozen=True)
class Evaluation:
    planned_percent: float
    deviation_points: float
    critical: bool
    threshold_points: float
    start: float
    deadline: float
    absorption: float | None


def evaluate(project: Project, now: float, zone: ZoneInfo, rule: CriticalRule) -> Evaluation:
    """Where one project stands at `now`: the plan's percent, the gap, and whether kritis."""
    if project.planned_percent is not None:
        planned = project.planned_percent  # the agency's own figure for this report
    else:
        curve = PlanCurve.build(project.start_date, project.end_date, project.planned_curve, zone)
        planned = curve.percent_at(now)
    absorption = None
    if project.contract_value and project.budget_absorbed is not None:
        absorption = project.budget_absorbed / project.contract_value
    return Evaluation(
        planned_percent=planned,
        deviation_points=project.actual_percent - planned,
        critical=rule.is_critical(planned, project.actual_percent),
        threshold_points=rule.threshold(planned),
        start=day_start(project.start_date, zone),
        deadline=deadline(project.end_date, zone),
        absorption=absorption,
    )


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError("too_large", f"{path.name}: {size} bytes exceeds {max_bytes}")
        return path.read_bytes()
    except OSError as exc:
        raise SourceError("read", f"{path}: {exc.strerror or type(exc).__name__}") from exc


class ProjectsSource(PollingSource):
    config: ProjectsConfig

    def __init__(self, config: ProjectsConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.zone = ZoneInfo(config.timezone)
        self.rule = CriticalRule(
            config.critical_deviation_points,
            config.critical_deviation_points_late,
            config.late_from_percent,
        )
        self._info: dict[str, dict[str, str]] = {}  # project -> its info labels now
        self._last_errors: list[str] = []
        self.clock = time.time  # tests pin "now"

    async def collect(self) -> None:
        body = await self._load()
        now = self.clock()
        try:  # parsing and the schedule arithmetic run in the pool; only writes on the loop
            result, evaluations = await self.ctx.run_blocking(self._parse, body, now)
        except FormatError as exc:
            raise SourceError("decode", str(exc)) from exc
        for project, evaluation in zip(result.projects, evaluations, strict=True):
            self._write(project, evaluation)
        current = {p.id for p in result.projects}
        for gone in self._info.keys() - current:
            self.metrics.remove(m.INFO, **self._info.pop(gone))
            for spec in m.PER_PROJECT:
                if spec is not m.INFO:
                    self.metrics.remove(spec, project=gone)
        self.metrics.set(m.INVALID, len(result.errors))
        self._report(result)

    async def _load(self) -> bytes:
        if self.config.file is not None:
            return await self.ctx.run_blocking(_read_file, self.config.file, self.config.max_bytes)
        return await fetch_bytes(
            self.ctx.http(),
            str(self.config.url),
            time_limit=float(self.config.timeout),
            max_bytes=self.config.max_bytes,
            headers=self.config.headers,
        )

    def _parse(self, body: bytes, now: float) -> tuple[ParseResult, list[Evaluation]]:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FormatError(f"not UTF-8 text (byte {exc.start})") from None
        config = self.config
        if config.resolved_format(body) == "csv":
            result = parse_csv(text, config.columns, config.max_projects)
        else:
            result = parse_json(text, config.columns, config.max_projects, config.items_key)
        return result, [evaluate(p, now, self.zone, self.rule) for p in result.projects]

    def _write(self, project: Project, ev: Evaluation) -> None:
        pid = project.id
        put = self.metrics.set
        info = {
            "project": pid,
            "name": project.name,
            "agency": project.agency,
            "district": project.district,
            "category": project.category,
        }
        previous = self._info.get(pid)
        if previous is not None and previous != info:  # renamed: drop the old info series
            self.metrics.remove(m.INFO, **previous)
        self._info[pid] = info
        self.metrics.info(m.INFO, **info)
        put(m.PLANNED, ev.planned_percent / 100.0, project=pid)
        put(m.ACTUAL, project.actual_percent / 100.0, project=pid)
        put(m.DEVIATION, ev.deviation_points / 100.0, project=pid)
        put(m.CRITICAL, 1 if ev.critical else 0, project=pid)
        put(m.THRESHOLD, ev.threshold_points / 100.0, project=pid)
        put(m.START, ev.start, project=pid)
        put(m.DEADLINE, ev.deadline, project=pid)
        for spec, value in (
            (m.CONTRACT_VALUE, project.contract_value),
            (m.ABSORBED, project.budget_absorbed),
            (m.ABSORPTION, ev.absorption),
        ):
            if value is None:
                self.metrics.remove(spec, project=pid)
            else:
                put(spec, value, project=pid)

    def _report(self, result: ParseResult) -> None:
        """Row errors go to the log when they change and to /api/v1/sources always."""
        shown = result.errors[:MAX_LOGGED_ERRORS]
        self.ctx.set_detail("projects", len(result.projects))
        self.ctx.set_detail("invalid_records", shown)
        if result.errors != self._last_errors:
            if result.errors:
                self.log.warning(
                    "projects_invalid_records", count=len(result.errors), errors=shown
                )
            self._last_errors = result.errors
