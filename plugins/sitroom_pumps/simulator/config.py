"""Settings of the pump-house simulator; the defaults are a small demo city.

Every number is in base units (meters, cubic meters per second, seconds) so that what the
simulator is told and what sitroom reports can be compared without conversion.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sitroom.api import ConfigModel, Duration


class SimPumpConfig(ConfigModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
    drive: Literal["fixed", "vsd"] = "fixed"
    capacity: float = Field(default=1.0, gt=0, description="m3/s at 50 Hz.")
    rated_current: float = Field(default=60.0, gt=0, description="A at full load.")
    start_level: float = Field(default=2.0, gt=0, description="Starts at this sump level (m).")
    stop_level: float = Field(default=0.8, ge=0, description="Stops at this sump level (m).")

    @model_validator(mode="after")
    def _levels(self) -> SimPumpConfig:
        if self.stop_level >= self.start_level:
            raise ValueError("stop_level must be below start_level")
        return self


class SimStationConfig(ConfigModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,31}$")
    port: int = Field(ge=0, le=65535, description="Modbus TCP port (0 = any free port).")
    plc_unit: int = Field(default=1, ge=1, le=247)
    vsd_unit_base: int = Field(default=11, ge=1, le=247, description="Unit of the first drive.")
    sump_area: float = Field(default=1500.0, gt=0, description="Wet-well area (m2).")
    sump_depth: float = Field(default=4.0, gt=0)
    initial_level: float = Field(default=1.0, ge=0)
    catchment_area: float = Field(default=150_000.0, ge=0, description="Runoff area (m2).")
    base_inflow: float = Field(default=0.3, ge=0, description="Dry-weather inflow (m3/s).")
    river_mean: float = Field(default=0.4, description="Outfall level mean (m, datum).")
    tide_amplitude: float = Field(default=0.6, ge=0)
    tide_period: Duration = Field(default=44712.0, gt=0, description="12.42 h (M2 tide).")
    genset: bool = True
    genset_start_delay: Duration = Field(default=10.0, ge=0)
    fuel_hours: float = Field(default=8.0, gt=0, description="Full tank lasts this long.")
    pumps: list[SimPumpConfig] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _pumps(self) -> SimStationConfig:
        names = [p.name for p in self.pumps]
        if len(set(names)) != len(names):
            raise ValueError("pump names repeat")
        vsd = sum(1 for p in self.pumps if p.drive == "vsd")
        if self.vsd_unit_base + vsd - 1 > 247 or (
            vsd and self.vsd_unit_base <= self.plc_unit < self.vsd_unit_base + vsd
        ):
            raise ValueError("drive unit ids collide with the PLC or pass 247")
        return self


def _demo_stations() -> list[SimStationConfig]:
    return [
        SimStationConfig(id="kali-semarang", port=15020, initial_level=1.7, pumps=[
            SimPumpConfig(name="P1", capacity=1.0, start_level=1.8, stop_level=0.8),
            SimPumpConfig(name="P2", capacity=1.0, start_level=2.2, stop_level=1.0),
            SimPumpConfig(name="P3", capacity=1.5, drive="vsd", rated_current=90,
                          start_level=2.6, stop_level=1.2),
        ]),
        SimStationConfig(id="mberok", port=15021, sump_area=900, catchment_area=90_000,
                         base_inflow=0.15, initial_level=1.5, pumps=[
            SimPumpConfig(name="P1", capacity=0.5, rated_current=35, start_level=1.6,
                          stop_level=0.7),
            SimPumpConfig(name="P2", capacity=0.5, rated_current=35, start_level=2.1,
                          stop_level=0.9),
        ]),
        SimStationConfig(id="kali-banger", port=15022, sump_area=2500,
                         catchment_area=250_000, base_inflow=0.5, initial_level=1.4,
                         pumps=[
            SimPumpConfig(name="P1", capacity=2.0, drive="vsd", rated_current=120,
                          start_level=1.5, stop_level=0.6),
            SimPumpConfig(name="P2", capacity=2.0, drive="vsd", rated_current=120,
                          start_level=2.0, stop_level=0.9),
        ]),
    ]


class PumpSimulatorConfig(ConfigModel):
    host: str = Field(default="127.0.0.1", description="Loopback only.")
    control_port: int = Field(default=15010, ge=0, le=65535,
                              description="HTTP control endpoint (0 = any free port).")
    tick: Duration = Field(default=1.0, gt=0, description="Physics step (wall clock).")
    time_scale: float = Field(default=1.0, gt=0, le=3600,
                              description="Simulated seconds per real second.")
    rain: float = Field(default=0.0, ge=0, le=500, description="Rain now (mm/h).")
    storm_every: Duration = Field(default=0.0, ge=0,
                                  description="Demo: a storm every this long (0 = never).")
    storm_duration: Duration = Field(default=600.0, gt=0)
    storm_intensity: float = Field(default=40.0, ge=0, le=500, description="mm/h")
    seed: int = 0
    stations: list[SimStationConfig] = Field(default_factory=_demo_stations, min_length=1)

    @field_validator("host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        try:
            loopback = ipaddress.ip_address(value).is_loopback
        except ValueError:
            loopback = value == "localhost"
        if not loopback:
            raise ValueError("the simulator binds loopback only (127.0.0.1 or ::1)")
        return value

    @model_validator(mode="after")
    def _unique(self) -> PumpSimulatorConfig:
        ids = [s.id for s in self.stations]
        if len(set(ids)) != len(ids):
            raise ValueError("station ids repeat")
        ports = [s.port for s in self.stations if s.port]
        if len(set(ports)) != len(ports) or (self.control_port and self.control_port in ports):
            raise ValueError("ports repeat")
        return self
