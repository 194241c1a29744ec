"""Register maps: which register holds what, in which layout, feeding which role.

A map is written once per device model (a *profile*, kept in `conf.d/profiles/`) and reused
by every station that has that device. Validation here is strict on purpose: a wrong word
order produces plausible-looking nonsense, so everything that can be checked before the
first poll (type vs function, unit vs role, address range, bit index) is checked here, and
errors name the profile file and the field.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from sitroom.api import ConfigModel, MetricSpec, format_validation_error
from sitroom_pumps.datatypes import BIT_TYPES, DataType, Order, register_width
from sitroom_pumps.metrics import (
    BASE_UNITS,
    PUMP,
    ROLES,
    STATION,
    UNIT_SHIFTS,
    UNITS,
    Scope,
    Shape,
)

Function = Literal["coil", "discrete_input", "holding", "input"]
BIT_FUNCTIONS = frozenset({"coil", "discrete_input"})
MAX_ADDRESS = 65535
_LABEL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_RESERVED_LABELS = frozenset({"station", "pump", "point", "unit", "source", "kind", "le",
                              "quantile", "job", "instance"})


class PointMetric(ConfigModel):
    """A metric of the point's own, for values no role covers (head, power, temperature).

    The name lives under `sitroom_modbus_` so configured families never collide with the
    plugin's fixed ones; `labels` are fixed label values that tell apart points sharing one
    family (`{sensor: liquid}` and `{sensor: electronics}` on one temperature metric).
    """

    name: str = Field(pattern=r"^sitroom_modbus_[a-z][a-z0-9_]*$", max_length=100,
                      description="Metric name, e.g. sitroom_modbus_pump_head_pascals.")
    help: str = Field(min_length=1, max_length=200, description="What the value is.")
    type: Literal["gauge", "counter"] = "gauge"
    unit: str = Field(default="", description="Base unit, part of the name: pascals, ...")
    labels: dict[str, str] = Field(default_factory=dict, max_length=4,
                                   description="Fixed label values of this point.")

    @field_validator("unit")
    @classmethod
    def _base_unit(cls, value: str) -> str:
        if value and value not in BASE_UNITS:
            raise ValueError(f"unit {value!r} is not a base unit; known: "
                             f"{', '.join(sorted(BASE_UNITS))}")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for label, text in value.items():
            if not _LABEL_NAME.match(label) or label in _RESERVED_LABELS:
                raise ValueError(f"label {label!r} is invalid or reserved")
            if not _LABEL_VALUE.match(text):
                raise ValueError(f"label value {text!r} must match {_LABEL_VALUE.pattern}")
        return value

    @model_validator(mode="after")
    def _valid_family(self) -> PointMetric:
        self.spec("station")  # MetricSpec's own rules: _total, unit in the name, ...
        return self

    def spec(self, scope: Scope) -> MetricSpec:
        """The family this metric declares for points of `scope` (pump points add `pump`)."""
        entity = STATION if scope == "station" else PUMP
        return MetricSpec(self.name, self.type, self.help, entity + tuple(sorted(self.labels)),
                          unit=self.unit)


class PointSpec(ConfigModel):
    """One value in a device: where it is, how it is laid out, and what it means."""

    role: str | None = Field(default=None,
                             description="What the value is: running, sump_level, flow, ...")
    metric: PointMetric | None = Field(default=None,
                                       description="Instead of a role: the point's own metric.")
    function: Function = "holding"
    address: int = Field(ge=0, le=MAX_ADDRESS, description="Zero-based wire address.")
    type: DataType = "u16"
    bit: int | None = Field(default=None, ge=0, le=15, description="For type bit.")
    length: int | None = Field(default=None, ge=1, le=64, description="String registers.")
    byte_order: Order = "big"
    word_order: Order = "big"
    scale: float = 1.0
    offset: float = 0.0
    unit: str | None = Field(default=None, description="Unit after scale/offset, e.g. cm.")
    invert: bool = Field(default=False, description="Boolean roles: 0 means true.")
    valid_min: float | None = Field(default=None, description="Below this: bad value.")
    valid_max: float | None = Field(default=None, description="Above this: bad value.")
    stride: int | None = Field(
        default=None, ge=0, le=65535,
        description="Pump points: address step per pump (block default).",
    )

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        if value is not None and value not in ROLES:
            raise ValueError(f"unknown role {value!r}; known: {', '.join(sorted(ROLES))}")
        return value

    @field_validator("scale", "offset")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PointSpec:
        if (self.role is None) == (self.metric is None):
            raise ValueError("give exactly one of 'role' or 'metric'")
        is_bit_function = self.function in BIT_FUNCTIONS
        if is_bit_function != (self.type in BIT_TYPES):
            raise ValueError(
                f"type {self.type!r} does not fit function {self.function!r} "
                "(coils and discrete inputs are type bool; registers are any other type)"
            )
        if self.type == "bit" and self.bit is None:
            raise ValueError("type bit needs 'bit' (0..15, 0 = least significant)")
        if self.type != "bit" and self.bit is not None:
            raise ValueError("'bit' is only for type bit")
        if (self.type == "string") != (self.length is not None):
            raise ValueError("'length' (registers) is required for type string, and only there")
        if (self.shape == "string") != (self.type == "string"):
            raise ValueError(f"{self.what} needs type " +
                             ("string" if self.shape == "string" else "other than string"))
        if self.unit is not None:
            allowed = self.allowed_units
            if self.unit not in allowed:
                hint = ", ".join(allowed) if allowed else "none (this point has no unit)"
                raise ValueError(f"unit {self.unit!r} does not fit {self.what}; "
                                 f"allowed: {hint}")
        if self.metric is not None and self.metric.unit and self.unit is None:
            raise ValueError(f"metric {self.metric.name!r} is in {self.metric.unit}: say the "
                             f"point's unit (one of {', '.join(self.allowed_units)})")
        if self.invert and self.shape != "bool":
            raise ValueError("'invert' is only for boolean roles")
        if self.address + self.width - 1 > MAX_ADDRESS:
            raise ValueError(f"address {self.address} + {self.width} registers passes 65535")
        if (self.valid_min is not None and self.valid_max is not None
                and self.valid_min > self.valid_max):
            raise ValueError("valid_min is above valid_max")
        return self

    @property
    def what(self) -> str:
        """How errors name the point: `role 'flow'` or `metric 'sitroom_modbus_...'`."""
        return f"role {self.role!r}" if self.role is not None else f"metric {self.key!r}"

    @property
    def key(self) -> str:
        """What the point feeds, unique per entity: the role, or the metric and its labels
        (`pump_head_pascals`, `temperature_celsius.liquid`); also the `point` label's tail."""
        if self.role is not None:
            return self.role
        assert self.metric is not None
        short = self.metric.name.removeprefix("sitroom_modbus_")
        return ".".join([short, *(self.metric.labels[k] for k in sorted(self.metric.labels))])

    @property
    def shape(self) -> Shape:
        return ROLES[self.role].shape if self.role is not None else "number"

    @property
    def allowed_units(self) -> dict[str, float]:
        if self.metric is not None:
            return BASE_UNITS.get(self.metric.unit, {})
        return UNITS.get(ROLES[self.role or ""].dimension, {})

    @property
    def width(self) -> int:
        return register_width(self.type, self.length)

    def to_base(self, value: float) -> float:
        """Convert a scaled value from the point's unit into its metric's base unit."""
        if self.unit is None:
            return value
        return value * self.allowed_units[self.unit] + UNIT_SHIFTS.get(self.unit, 0.0)

    def metric_spec(self, scope: Scope) -> MetricSpec:
        """The family this point writes."""
        if self.metric is not None:
            return self.metric.spec(scope)
        return ROLES[self.role or ""].metric


class PumpBlock(ConfigModel):
    """Points repeated for each pump: pump i's point sits at `address + i * stride`."""

    stride: int = Field(default=0, ge=0, le=65535, description="Address step between pump blocks.")
    points: list[PointSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _pump_roles(self) -> PumpBlock:
        for index, point in enumerate(self.points):
            if point.role is not None and ROLES[point.role].scope != "pump":
                raise ValueError(f"points[{index}]: role {point.role!r} is a station role")
        _no_duplicate_keys(self.points)
        return self


class RegisterMap(ConfigModel):
    """A device's register map: station-wide points and per-pump points."""

    name: str = Field(default="", description="Device model the map describes.")
    description: str = ""
    station: list[PointSpec] = Field(default_factory=list)
    pump: PumpBlock | None = None

    @model_validator(mode="after")
    def _station_roles(self) -> RegisterMap:
        for index, point in enumerate(self.station):
            if point.role is not None and ROLES[point.role].scope != "station":
                raise ValueError(f"station[{index}]: role {point.role!r} is a pump role")
        _no_duplicate_keys(self.station)
        if not self.station and self.pump is None:
            raise ValueError("a register map needs station points, pump points or both")
        merge_metric_specs([self.metric_specs()])
        return self

    def metric_specs(self) -> list[MetricSpec]:
        """The families its points of their own declare (one per point; may repeat)."""
        specs = [p.metric.spec("station") for p in self.station if p.metric is not None]
        if self.pump is not None:
            specs += [p.metric.spec("pump") for p in self.pump.points if p.metric is not None]
        return specs


def merge_metric_specs(groups: list[list[MetricSpec]]) -> list[MetricSpec]:
    """One spec per name; points (or maps) naming one family must define it alike."""
    merged: dict[str, MetricSpec] = {}
    for specs in groups:
        for spec in specs:
            known = merged.setdefault(spec.name, spec)
            if known != spec:
                raise ValueError(f"metric {spec.name!r} is defined twice differently (help, "
                                 "type, unit, label names, or station vs pump points)")
    return list(merged.values())


def _no_duplicate_keys(points: list[PointSpec]) -> None:
    seen: set[str] = set()
    for point in points:
        if point.key in seen:
            raise ValueError(f"{point.key!r} is mapped twice")
        seen.add(point.key)


_PROFILE_CACHE: dict[Path, tuple[tuple[int, int], RegisterMap]] = {}


def load_profile(path: Path) -> RegisterMap:
    """Read a profile file; errors name the file and the field so the fix is obvious.

    Maps are immutable, so stations that share a profile share one parsed copy (a city has
    hundreds of stations and a handful of device models); an edited file is parsed again.
    """
    try:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = _PROFILE_CACHE.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"profile {path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ValueError(f"profile {path}{where}: invalid YAML") from None
    if not isinstance(data, dict):
        raise ValueError(f"profile {path}: top level must be a mapping")
    try:
        register_map = RegisterMap.model_validate(data)
    except ValidationError as exc:
        lines = format_validation_error(exc)
        raise ValueError(f"profile {path}: " + "; ".join(lines)) from None
    _PROFILE_CACHE[path] = (key, register_map)
    return register_map
