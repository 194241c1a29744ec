"""Config of one `modbus_pump_station` source: the gateway, its devices and polling limits.

One source is one station reached through one TCP endpoint (a PLC or a Modbus gateway),
because one connection with one request in flight is what small PLCs and serial gateways
tolerate. The devices behind it are addressed by unit id, each with its register map.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import Field, PrivateAttr, field_validator, model_validator

from sitroom.api import ConfigModel, ConfigPath, Duration, MetricSpec, SourceConfig
from sitroom_pumps.registermap import RegisterMap, load_profile, merge_metric_specs

_LABEL_VALUE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


class DeviceConfig(ConfigModel):
    """A Modbus unit behind the station's endpoint and the map that describes it."""

    unit: int = Field(default=1, ge=0, le=255, description="Modbus unit (slave) id.")
    profile: ConfigPath | None = Field(
        default=None, description="Register map file, relative to the config directory."
    )
    map: RegisterMap | None = Field(default=None, description="Inline register map.")
    pumps: list[str] = Field(
        default_factory=list, description="Pump names, in the order of the map's pump blocks."
    )
    address_offset: int = Field(
        default=0, ge=-1, le=65535,
        description="Added to every address (-1 for maps written 1-based).",
    )
    _map: RegisterMap = PrivateAttr()

    @field_validator("pumps")
    @classmethod
    def _pump_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(_LABEL_VALUE, name):
                raise ValueError(f"pump name {name!r} must match {_LABEL_VALUE}")
        if len(set(value)) != len(value):
            raise ValueError("pump names repeat")
        return value

    @model_validator(mode="after")
    def _resolve_map(self) -> DeviceConfig:
        if (self.profile is None) == (self.map is None):
            raise ValueError("give exactly one of 'profile' (a file) or 'map' (inline)")
        if self.map is not None:
            register_map = self.map
        else:
            assert self.profile is not None  # exactly one of the two, checked above
            register_map = load_profile(Path(self.profile))
        if register_map.pump is not None and "pumps" not in self.model_fields_set:
            raise ValueError("the map has pump points: list the pumps this unit serves "
                             "(or pumps: [] to read only its station points)")
        if register_map.pump is None and self.pumps:
            raise ValueError("the map has no pump points, so 'pumps' must be empty")
        if register_map.pump is not None:
            last = len(self.pumps) - 1
            for point in register_map.pump.points:
                stride = register_map.pump.stride if point.stride is None else point.stride
                end = point.address + self.address_offset + last * stride + point.width - 1
                if end > 65535:
                    raise ValueError(f"pump point {point.key!r} of pump {last + 1} ends at "
                                     f"address {end}, past 65535")
        self._map = register_map
        return self

    @property
    def register_map(self) -> RegisterMap:
        return self._map


class StationInfo(ConfigModel):
    """Descriptive facts for the `_info` metric: they never multiply value series."""

    id: str | None = Field(default=None, pattern=_LABEL_VALUE,
                           description="`station` label value (default: source name).")
    name: str = Field(default="", max_length=80, description="Display name.")
    district: str = Field(default="", max_length=64, description="Kecamatan.")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    river: str = Field(default="", max_length=64)


class PumpStationConfig(SourceConfig):
    kind: str = "modbus_pump_station"
    host: str = Field(description="PLC or gateway address (name or IP, no scheme).")
    port: int = Field(default=502, ge=1, le=65535)
    station: StationInfo = StationInfo()
    devices: list[DeviceConfig] = Field(min_length=1)
    interval: Duration = Field(default=10.0, gt=0)
    timeout: Duration = Field(default=8.0, gt=0, description="Bound on one whole poll.")
    connect_timeout: Duration = Field(default=3.0, gt=0)
    request_timeout: Duration = Field(default=2.0, gt=0, description="Bound on one request.")
    request_pause: Duration = Field(
        default=0.0, ge=0, description="Pause between requests (slow serial gateways)."
    )
    max_registers_per_read: int = Field(default=125, ge=1, le=125)
    max_bits_per_read: int = Field(default=2000, ge=1, le=2000)
    merge_gap: int = Field(
        default=0, ge=0, le=124,
        description="Unused addresses a merged read may span (0 = contiguous only).",
    )
    sump_high_level: float = Field(
        default=2.0, gt=0, le=100,
        description="Sump level (m) above which no running pump is an emergency "
        "(PumpStationSumpHighPumpsStopped; the shipped rule uses 2.0 m).",
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _HOSTNAME.match(value):
                message = "expected a host name or IP address (no scheme, no port)"
                raise ValueError(message) from None
        return value

    @model_validator(mode="after")
    def _no_double_feed(self) -> PumpStationConfig:
        """Two devices may serve one pump (PLC for status, drive for speed), but a value
        fed from two registers would flap, so each (entity, role) has one source."""
        fed: dict[tuple[str, str], int] = {}
        for index, device in enumerate(self.devices):
            register_map = device.register_map
            keys = [("station", p.key) for p in register_map.station if p.shape != "string"]
            if register_map.pump is not None:
                keys += [(f"pump {pump}", p.key) for pump in device.pumps
                         for p in register_map.pump.points]
            for key in keys:
                if key in fed:
                    raise ValueError(f"devices[{index}]: {key[0]} {key[1]!r} is already fed "
                                     f"by devices[{fed[key]}]")
                fed[key] = index
        units = [d.unit for d in self.devices]
        strings = [d.unit for d in self.devices
                   if any(p.shape == "string" for p in d.register_map.station)]
        if len(set(strings)) != len(strings) or not set(strings) <= set(units):
            raise ValueError("device_model/device_firmware may be mapped once per unit id")
        self.configured_metrics()
        return self

    def configured_metrics(self) -> list[MetricSpec]:
        """Families the devices' maps declare for their points of their own, merged."""
        return merge_metric_specs([d.register_map.metric_specs() for d in self.devices])

    @property
    def station_id(self) -> str:
        return self.station.id or self.name


def configured_specs(config: PumpStationConfig) -> list[MetricSpec]:
    """The `SourceKind.metrics_for` callable: the families this station's maps add."""
    return config.configured_metrics()
