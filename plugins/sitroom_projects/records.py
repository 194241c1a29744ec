"""Project records from CSV or JSON, with errors that name the row and the field.

Agency spreadsheets are typed by hand: one bad cell must cost one row, and the message must
say which row and which field so the clerk can fix it (`row 7 (id=DPU-07), field
'actual_percent': ...`). Numbers may be written the Indonesian way (`1.250.000.000`,
`45,5`, `Rp 2.000.000`, `60%`), dates as ISO `2026-03-01` or `01/03/2026` (day first).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

FIELDS = (
    "id",
    "name",
    "agency",
    "district",
    "category",
    "contract_value",
    "start_date",
    "end_date",
    "planned_curve",
    "planned_percent",
    "actual_percent",
    "budget_absorbed",
)
REQUIRED = ("id", "name", "agency", "start_date", "end_date", "actual_percent")
_GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")
_MAX_TEXT = 200
_DATE = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2})|(\d{1,2})/(\d{1,2})/(\d{4}))$")


class RecordError(ValueError):
    """A bad field in one record."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class FormatError(ValueError):
    """The document as a whole is unreadable (no header, not JSON, not a list)."""


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    agency: str
    district: str
    category: str
    start_date: date
    end_date: date
    actual_percent: float
    contract_value: float | None = None
    budget_absorbed: float | None = None
    planned_percent: float | None = None
    planned_curve: tuple[tuple[date, float], ...] = ()


@dataclass
class ParseResult:
    projects: list[Project]
    errors: list[str]


# -- field parsers ------------------------------------------------------------------------


def parse_amount(raw: Any, field: str) -> float:
    """Rupiah: `1250000000`, `1.250.000.000`, `Rp 1.250.000.000,00`."""
    if isinstance(raw, bool):
        raise RecordError(field, "expected an amount in rupiah, got a boolean")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip().removeprefix("Rp").removeprefix("rp").strip().replace(" ", "")
        if _GROUPED.match(text):
            text = text.replace(".", "").replace(",", ".")
        elif text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            raise RecordError(field, f"expected an amount in rupiah, got {_show(raw)}") from None
    else:
        raise RecordError(field, f"expected an amount in rupiah, got {type(raw).__name__}")
    if not 0 <= value < 1e16:
        raise RecordError(field, f"amount out of range: {_show(raw)}")
    return value


def parse_percent(raw: Any, field: str) -> float:
    """0..100, `45.5`, `45,5` or `45,5%`."""
    if isinstance(raw, bool):
        raise RecordError(field, "expected a percentage 0..100, got a boolean")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip().removesuffix("%").strip().replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            raise RecordError(field, f"expected a percentage 0..100, got {_show(raw)}") from None
    else:
        raise RecordError(field, f"expected a percentage 0..100, got {type(raw).__name__}")
    if not 0.0 <= value <= 100.0:  # also rejects NaN
        raise RecordError(field, f"percentage must be within 0..100, got {_show(raw)}")
    return value


def parse_date(raw: Any, field: str) -> date:
    if isinstance(raw, str):
        match = _DATE.match(raw.strip())
        if match:
            year, month, day = match.group(1, 2, 3) if match.group(1) else match.group(6, 5, 4)
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                pass
    raise RecordError(field, f"expected a date YYYY-MM-DD or DD/MM/YYYY, got {_show(raw)}")


def parse_text(raw: Any, field: str) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise RecordError(field, f"expected text, got {type(raw).__name__}")
    text = " ".join(raw.split())
    if len(text) > _MAX_TEXT:
        raise RecordError(field, f"longer than {_MAX_TEXT} characters")
    return text


def parse_curve(raw: Any, field: str) -> tuple[tuple[date, float], ...]:
    """`2026-03-01:10;2026-05-01:35` (CSV cell) or a JSON list of {date, percent} / pairs."""
    points: list[tuple[Any, Any]] = []
    if isinstance(raw, str):
        for chunk in filter(None, (c.strip() for c in raw.split(";"))):
            when, sep, percent = chunk.rpartition(":")
            if not sep:
                raise RecordError(field, f"expected DATE:PERCENT pairs separated by ';', got "
                                  f"{_show(chunk)}")
            points.append((when, percent))
    elif isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, Mapping) and "date" in entry and "percent" in entry:
                points.append((entry["date"], entry["percent"]))
            elif isinstance(entry, list | tuple) and len(entry) == 2:
                points.append((entry[0], entry[1]))
            else:
                raise RecordError(field, "each point needs a date and a percent")
    else:
        raise RecordError(field, f"expected a list of points, got {type(raw).__name__}")
    curve = sorted((parse_date(d, field), parse_percent(p, field)) for d, p in points)
    for (_, earlier), (_, later) in pairwise(curve):
        if later < earlier:
            raise RecordError(field, "a cumulative plan cannot go down")
    return tuple(curve)


def _show(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


# -- records ------------------------------------------------------------------------------


def build_project(record: Mapping[str, Any]) -> Project:
    """One validated project, or RecordError naming the first bad field."""
    for field in REQUIRED:
        if _blank(record.get(field)):
            raise RecordError(field, "required field is missing")

    def optional(field: str, parse: Any) -> Any:
        raw = record.get(field)
        return None if _blank(raw) else parse(raw, field)

    start = parse_date(record["start_date"], "start_date")
    end = parse_date(record["end_date"], "end_date")
    if end < start:
        raise RecordError("end_date", "ends before it starts")
    project_id = parse_text(record["id"], "id")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}", project_id):
        raise RecordError("id", "use letters, digits and . _ : / - (at most 64)")
    return Project(
        id=project_id,
        name=parse_text(record["name"], "name"),
        agency=parse_text(record["agency"], "agency"),
        district=optional("district", parse_text) or "",
        category=optional("category", parse_text) or "",
        start_date=start,
        end_date=end,
        actual_percent=parse_percent(record["actual_percent"], "actual_percent"),
        contract_value=optional("contract_value", parse_amount),
        budget_absorbed=optional("budget_absorbed", parse_amount),
        planned_percent=optional("planned_percent", parse_percent),
        planned_curve=optional("planned_curve", parse_curve) or (),
    )


def _rename(record: Mapping[str, Any], columns: Mapping[str, str]) -> dict[str, Any]:
    """Map the source's own field names (`nama_paket`) to ours (`name`)."""
    return {field: record.get(columns.get(field, field)) for field in FIELDS}


def collect(
    records: Iterable[tuple[str, Any]], columns: Mapping[str, str], max_records: int
) -> ParseResult:
    """Validate (where, record) pairs; bad ones become messages, duplicates keep the first."""
    projects: list[Project] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for index, (where, record) in enumerate(records):
        if index >= max_records:
            errors.append(f"{where}: more than {max_records} records; the rest are ignored")
            break
        if not isinstance(record, Mapping):
            errors.append(f"{where}: expected an object, got {type(record).__name__}")
            continue
        data = _rename(record, columns)
        label = f"{where} (id={_show(data['id']).strip(chr(39))})" if data["id"] else where
        try:
            project = build_project(data)
        except RecordError as exc:
            errors.append(f"{label}, field '{columns.get(exc.field, exc.field)}': {exc}")
            continue
        if project.id in seen:
            errors.append(f"{label}, field '{columns.get('id', 'id')}': duplicate id "
                          f"(first at {seen[project.id]})")
            continue
        seen[project.id] = where
        projects.append(project)
    return ParseResult(projects, errors)


def parse_csv(text: str, columns: Mapping[str, str], max_records: int) -> ParseResult:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames
    if not header:
        raise FormatError("CSV has no header row")
    missing = [columns.get(f, f) for f in REQUIRED if columns.get(f, f) not in header]
    if missing:
        raise FormatError(f"CSV header lacks required column(s): {', '.join(missing)}")

    def rows() -> Iterable[tuple[str, Any]]:
        try:
            for row in reader:
                if not any((value or "").strip() for value in row.values() if isinstance(value,
                                                                                         str)):
                    continue  # blank line in a spreadsheet export
                yield f"row {reader.line_num}", row
        except csv.Error as exc:
            raise FormatError(f"CSV line {reader.line_num}: {exc}") from None

    return collect(rows(), columns, max_records)


def find_items(document: Any, items_key: str | None) -> list[Any]:
    """The project list: the document itself, or under a dotted key (`data.paket`)."""
    node = document
    if items_key:
        for key in items_key.split("."):
            if not isinstance(node, Mapping) or key not in node:
                raise FormatError(f"JSON has no {items_key!r} (missing {key!r})")
            node = node[key]
    elif isinstance(node, Mapping) and isinstance(node.get("projects"), list):
        node = node["projects"]
    if not isinstance(node, list):
        raise FormatError(f"expected a list of projects, got {type(node).__name__}")
    return node


def parse_json(
    text: str, columns: Mapping[str, str], max_records: int, items_key: str | None = None
) -> ParseResult:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise FormatError(f"invalid JSON at {where}: {exc.msg}") from None
    items = find_items(document, items_key)
    return collect(((f"items[{i}]", item) for i, item in enumerate(items)), columns, max_records)
