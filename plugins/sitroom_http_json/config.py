"""Config of an `http_json` source: where to poll, and which JSON fields become which metrics.

Each mapping declares a real metric family (name, type, help, unit, labels) that is checked
with the same rules as a plugin's own declarations, at config load, so `sitroom check-config`
rejects `speed_kmh` as a metric name before the daemon ever polls.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, HttpUrl, field_validator, model_validator

from sitroom.api import ConfigModel, HttpHeader, MetricSpec, SourceConfig
from sitroom_http_json import jsonpath

# Prefixes owned by the core and by this kind's own fixed metrics.
RESERVED_PREFIXES = ("sitroom_http_json_", "sitroom_source_", "sitroom_config_", "sitroom_build_")


class MetricMapping(ConfigModel):
    """One metric family filled from the response."""

    name: str
    type: Literal["gauge", "counter", "info"] = "gauge"
    help: str
    unit: str = ""
    path: str = Field(description="Absolute path ($...) to the items or to a single value.")
    value: str | None = Field(
        default=None, description="Path inside each item to the number (default: the item)."
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Label name -> path inside each item."
    )
    value_map: dict[str, float] = Field(
        default_factory=dict, description="Text values to numbers (lancar: 0, macet: 3)."
    )
    scale: float = Field(default=1.0, description="Multiply (unit conversion, km/h -> m/s).")
    offset: float = 0.0
    max_items: int = Field(default=1000, ge=1, le=100_000)

    @field_validator("path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not jsonpath.parse(value).absolute:
            raise ValueError("path must start at the document root ($)")
        return value

    @field_validator("value")
    @classmethod
    def _value_path(cls, value: str | None) -> str | None:
        if value is not None:
            jsonpath.parse(value)
        return value

    @field_validator("labels")
    @classmethod
    def _label_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            jsonpath.parse(path)
        return value

    @model_validator(mode="after")
    def _valid_family(self) -> MetricMapping:
        if self.name.startswith(RESERVED_PREFIXES):
            raise ValueError(f"metric {self.name!r}: that prefix belongs to the core or this kind")
        if self.type == "info" and self.value is not None:
            raise ValueError(f"info metric {self.name!r} takes no value path (its value is 1)")
        self.spec()  # MetricSpec's own checks: name, unit, _total/_info, label names
        return self

    def spec(self) -> MetricSpec:
        return MetricSpec(
            self.name, self.type, self.help, tuple(self.labels), unit=self.unit
        )


class HttpJsonConfig(SourceConfig):
    kind: str = "http_json"
    url: HttpUrl
    headers: list[HttpHeader] = Field(
        default_factory=list, description="Request headers; values are secrets (value_file)."
    )
    max_response_bytes: int = Field(default=1_048_576, ge=1, le=64 * 1_048_576)
    max_label_length: int = Field(default=128, ge=1, le=1024)
    metrics: list[MetricMapping] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> HttpJsonConfig:
        names = [m.name for m in self.metrics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"metrics declared twice: {', '.join(duplicates)}")
        return self


def configured_specs(config: Any) -> list[MetricSpec]:
    """The `SourceKind.metrics_for` callable: this source's own families."""
    return [mapping.spec() for mapping in config.metrics]
