"""Register maps: which register holds what, in which layout, feeding which role.

A map is written once per device model (a *profile*, kept in `conf.d/profiles/`) and reused
by every station that has that device. Validation here is strict on purpose: a wrong word
order produces plausible-looking nonsense, so everything that can be checked before the
first poll (type vs function, unit vs role, address range, bit index) is checked here, and
errors name the profile file and the field.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from sitroom.api import ConfigModel, format_validation_error
from sitroom_pumps.datatypes import BIT_TYPES, DataType, Order, register_width
from sitroom_pumps.metrics import ROLES, UNITS

Function = Literal["coil", "discrete_input", "holding", "input"]
BIT_FUNCTIONS = frozenset({"coil", "discrete_input"})
MAX_ADDRESS = 65535


class PointSpec(ConfigModel):
    """One value in a device: where it is, how it is laid out, and what it means."""

    role: str = Field(description="What the value is: running, sump_level, flow, ...")
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
        default=None, ge=0, description="Pump points: address step per pump (block default)."
    )

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in ROLES:
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
        role = ROLES[self.role]
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
        if (role.shape == "string") != (self.type == "string"):
            raise ValueError(f"role {self.role!r} needs type " +
                             ("string" if role.shape == "string" else "other than string"))
        if self.unit is not None:
            allowed = UNITS.get(role.dimension, {})
            if self.unit not in allowed:
                hint = ", ".join(allowed) if allowed else "none (this role has no unit)"
                raise ValueError(f"unit {self.unit!r} does not fit role {self.role!r}; "
                                 f"allowed: {hint}")
        if self.invert and role.shape != "bool":
            raise ValueError("'invert' is only for boolean roles")
        if self.address + self.width - 1 > MAX_ADDRESS:
            raise ValueError(f"address {self.address} + {self.width} registers passes 65535")
        if (self.valid_min is not None and self.valid_max is not None
                and self.valid_min > self.valid_max):
            raise ValueError("valid_min is above valid_max")
        return self

    @property
    def width(self) -> int:
        return register_width(self.type, self.length)

    @property
    def unit_factor(self) -> float:
        if self.unit is None:
            return 1.0
        return UNITS[ROLES[self.role].dimension][self.unit]


class PumpBlock(ConfigModel):
    """Points repeated for each pump: pump i's point sits at `address + i * stride`."""

    stride: int = Field(default=0, ge=0, description="Address step between pump blocks.")
    points: list[PointSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _pump_roles(self) -> PumpBlock:
        for index, point in enumerate(self.points):
            if ROLES[point.role].scope != "pump":
                raise ValueError(f"points[{index}]: role {point.role!r} is a station role")
        _no_duplicate_roles(self.points)
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
            if ROLES[point.role].scope != "station":
                raise ValueError(f"station[{index}]: role {point.role!r} is a pump role")
        _no_duplicate_roles(self.station)
        if not self.station and self.pump is None:
            raise ValueError("a register map needs station points, pump points or both")
        return self


def _no_duplicate_roles(points: list[PointSpec]) -> None:
    seen: set[str] = set()
    for point in points:
        if point.role in seen:
            raise ValueError(f"role {point.role!r} is mapped twice")
        seen.add(point.role)


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
