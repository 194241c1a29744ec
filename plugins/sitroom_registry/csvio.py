"""CSV import of the city's existing camera list, and export for administrators.

Import is all-or-nothing: every row is validated (fields, port policy, SSRF guard) before
any is written, so a file with one bad line can be fixed and imported again without
creating duplicates. Export never contains credentials; personal data only on request.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

from sitroom.api import NetGuard
from sitroom_registry.config import BoundingBox
from sitroom_registry.models import (
    FieldError,
    InvalidRequest,
    RegistrationIn,
    StreamSpec,
    check_stream,
    parse_model,
)
from sitroom_registry.store import OWNER_COLUMNS

STREAM_COLUMNS = ("url", "protocol", "host", "port", "path", "username", "password")
DETAIL_COLUMNS = OWNER_COLUMNS
EXPORT_COLUMNS = [
    "id",
    "camera_name",
    "status",
    "owner_type",
    "district",
    "location_name",
    "latitude",
    "longitude",
    "protocol",
    "host",
    "port",
    "path",
    "probe_result",
    "width",
    "height",
    "codec",
    "created_at",
    "updated_at",
]
PERSONAL_COLUMNS = ("owner_name", "contact_phone", "contact_email", "address")
_TRUE = {"1", "true", "yes", "y", "ya"}


def row_to_form(row: dict[str, str], assume_consent: bool) -> dict[str, Any]:
    """A CSV row in the shape of the registration form (empty cells are absent)."""

    def cell(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    form: dict[str, Any] = {k: cell(k) for k in DETAIL_COLUMNS if cell(k) is not None}
    stream: dict[str, Any] = {k: cell(k) for k in STREAM_COLUMNS if cell(k) is not None}
    for number in ("port",):
        if number in stream and stream[number].isdigit():
            stream[number] = int(stream[number])
    form["stream"] = stream
    consent = cell("consent")
    form["consent"] = assume_consent if consent is None else consent.lower() in _TRUE
    unknown = set(row) - {*DETAIL_COLUMNS, *STREAM_COLUMNS, "consent", None}
    if unknown:
        raise InvalidRequest([FieldError("(columns)", f"unknown: {', '.join(sorted(unknown))}")])
    return form


async def validate_rows(
    reader: Iterable[dict[str, str]], guard: NetGuard, bbox: BoundingBox, assume_consent: bool
) -> tuple[list[tuple[dict[str, Any], StreamSpec]], list[str]]:
    """Every row validated; returns the good ones and `line N: field: message` errors."""
    good: list[tuple[dict[str, Any], StreamSpec]] = []
    errors: list[str] = []
    for line, row in enumerate(reader, start=2):  # line 1 is the header
        try:
            form = parse_model(RegistrationIn, row_to_form(row, assume_consent), bbox)
            spec = await check_stream(form.stream, guard)
        except InvalidRequest as exc:
            errors.extend(f"line {line}: {e.field}: {e.message}" for e in exc.errors)
            continue
        fields = {
            **form.model_dump(exclude={"stream", "consent"}),
            "protocol": spec.protocol,
            "host": spec.host,
            "port": spec.port,
            "path": spec.path,
            "pinned_address": spec.address,
            "source": "import",
        }
        good.append((fields, spec))
    return good, errors


def write_export(rows: list[dict[str, Any]], out: IO[str], include_personal: bool) -> None:
    columns = [*EXPORT_COLUMNS, *(PERSONAL_COLUMNS if include_personal else ())]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k) for k in columns})
