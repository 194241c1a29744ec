"""A pump house in a few lines of physics: rain fills the sump, pumps empty it.

Deliberately simple but causal, so a demo behaves like the real thing for the questions an
operator asks: the level rises in a storm, duty pumps cut in one after another, a faulted
pump or a power cut lets the water climb, the generator takes over after a delay and burns
fuel. Deterministic apart from small, seeded noise on currents.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from sitroom_pumps.simulator.config import SimPumpConfig, SimStationConfig

FULL_SPEED_HZ = 50.0
MIN_SPEED_HZ = 30.0
RAMP_HZ_PER_S = 5.0


@dataclass
class PumpState:
    cfg: SimPumpConfig
    running: bool = False
    fault_code: int = 0
    speed_hz: float = 0.0
    current: float = 0.0
    flow: float = 0.0
    run_seconds: float = 0.0
    starts: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"name": self.cfg.name, "drive": self.cfg.drive, "running": self.running,
                "fault_code": self.fault_code, "speed_hz": round(self.speed_hz, 3),
                "current_amperes": round(self.current, 3), "flow_m3s": round(self.flow, 5),
                "run_seconds": round(self.run_seconds, 1), "starts": self.starts}


@dataclass
class StationState:
    cfg: SimStationConfig
    level: float = 0.0
    river: float = 0.0
    mains: bool = True
    genset_running: bool = False
    fuel: float = 1.0
    outage_seconds: float = 0.0
    rain_override: float | None = None
    pumps: list[PumpState] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def create(cls, cfg: SimStationConfig, seed: int = 0) -> StationState:
        return cls(cfg=cfg, level=cfg.initial_level, river=cfg.river_mean,
                   pumps=[PumpState(p) for p in cfg.pumps], rng=random.Random(seed))

    @property
    def powered(self) -> bool:
        return self.mains or self.genset_running

    def pump(self, name: str) -> PumpState:
        for pump in self.pumps:
            if pump.cfg.name == name:
                return pump
        raise KeyError(name)

    def step(self, dt: float, rain_mm_h: float, now: float) -> None:
        """Advance `dt` simulated seconds; `now` is simulated time (for the tide)."""
        self._power(dt)
        outflow = 0.0
        for pump in self.pumps:
            self._pump(pump, dt)
            outflow += pump.flow
        rain = self.rain_override if self.rain_override is not None else rain_mm_h
        inflow = self.cfg.base_inflow + self.cfg.catchment_area * rain / 3.6e6
        self.level += (inflow - outflow) * dt / self.cfg.sump_area
        self.level = min(self.cfg.sump_depth, max(0.0, self.level))
        self.river = self.cfg.river_mean + self.cfg.tide_amplitude * math.sin(
            2 * math.pi * now / self.cfg.tide_period)

    def _power(self, dt: float) -> None:
        if self.mains:
            self.outage_seconds = 0.0
            self.genset_running = False
            return
        self.outage_seconds += dt
        if (self.cfg.genset and self.fuel > 0
                and self.outage_seconds >= self.cfg.genset_start_delay):
            self.genset_running = True
        if self.genset_running:
            self.fuel = max(0.0, self.fuel - dt / (self.cfg.fuel_hours * 3600))
            if self.fuel == 0.0:
                self.genset_running = False

    def _pump(self, pump: PumpState, dt: float) -> None:
        cfg = pump.cfg
        want = pump.running
        if self.level >= cfg.start_level:
            want = True
        elif self.level <= cfg.stop_level:
            want = False
        if pump.fault_code or not self.powered:
            want = False
        if want and not pump.running:
            pump.starts += 1
        pump.running = want
        if cfg.drive == "vsd":
            span = max(1e-6, cfg.start_level - cfg.stop_level)
            share = min(1.0, max(0.0, (self.level - cfg.stop_level) / span))
            target = MIN_SPEED_HZ + (FULL_SPEED_HZ - MIN_SPEED_HZ) * share if want else 0.0
            step = RAMP_HZ_PER_S * dt
            pump.speed_hz += max(-step, min(step, target - pump.speed_hz))
        else:
            pump.speed_hz = FULL_SPEED_HZ if want else 0.0
        ratio = pump.speed_hz / FULL_SPEED_HZ
        pump.flow = cfg.capacity * ratio if pump.running else 0.0
        if pump.running:
            load = 0.3 + 0.7 * ratio**3  # affinity law: power ~ speed cubed
            pump.current = cfg.rated_current * load * (1 + self.rng.uniform(-0.02, 0.02))
            pump.run_seconds += dt
        else:
            pump.current = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"id": self.cfg.id, "port": self.cfg.port, "sump_level_m": round(self.level, 4),
                "river_level_m": round(self.river, 4), "mains": self.mains,
                "genset_running": self.genset_running, "fuel_ratio": round(self.fuel, 5),
                "rain_override_mm_h": self.rain_override,
                "pumps": [p.as_dict() for p in self.pumps]}
