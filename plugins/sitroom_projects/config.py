"""Config of a `projects` source: where the project list comes from and what "kritis" means."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, HttpUrl, field_validator, model_validator

from sitroom.api import Duration, HttpHeader, InputFile, SourceConfig
from sitroom_projects.records import FIELDS


class ProjectsConfig(SourceConfig):
    kind: str = "projects"
    interval: Duration = Field(default=300.0, gt=0, description="Project data changes daily.")
    file: InputFile | None = Field(default=None, description="CSV or JSON file.")
    url: HttpUrl | None = Field(default=None, description="HTTP(S) JSON or CSV API.")
    format: Literal["auto", "csv", "json"] = "auto"
    headers: list[HttpHeader] = Field(default_factory=list, description="Secret values.")
    items_key: str | None = Field(
        default=None, description="Dotted key of the project list in a JSON document."
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Our field name -> the source's (name: nama_paket)."
    )
    critical_deviation_points: float = Field(
        default=-10.0, le=0, description="Kontrak kritis below this deviation (points)."
    )
    critical_deviation_points_late: float | None = Field(
        default=None, le=0, description="Stricter threshold once the plan passes late_from."
    )
    late_from_percent: float = Field(default=70.0, ge=0, le=100)
    timezone: str = "Asia/Jakarta"
    max_bytes: int = Field(default=8 * 1_048_576, ge=1, le=256 * 1_048_576)
    max_projects: int = Field(default=5000, ge=1, le=100_000)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; known: {', '.join(FIELDS)}")
        return value

    @model_validator(mode="after")
    def _one_origin(self) -> ProjectsConfig:
        if (self.file is None) == (self.url is None):
            raise ValueError("give exactly one of file or url")
        if self.file is not None and self.headers:
            raise ValueError("headers apply to url sources only")
        return self

    def resolved_format(self, body: bytes) -> str:
        """`auto`: by file suffix, else by the first character of the body."""
        if self.format != "auto":
            return self.format
        if self.file is not None and self.file.suffix.lower() in (".csv", ".json"):
            return self.file.suffix.lower()[1:]
        return "json" if body.lstrip()[:1] in (b"[", b"{") else "csv"
