"""The physics of the demo city's water, simple enough to read and plausible on a wall.

Rain storms cross the upper catchment (Gunungpati, Banyumanik) now and then; each river is a
linear reservoir that fills from its catchment's rain and drains back to its base flow; the
sea follows a 12.42-hour semidiurnal tide with a spring-neap swing, so rob (tidal flooding)
reaches the coastal gauges at spring high water. `time_scale` compresses hours into
minutes for the demo. Operators (and tests) may pin any sensor to a value.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

TIDE_PERIOD = 12.42 * 3600.0
SPRING_NEAP_PERIOD = 14.77 * 86400.0
SimKind = Literal["water_level", "rain_gauge", "tide"]
Transport = Literal["awlr", "arr", "senml", "number"]


@dataclass(frozen=True)
class SimSensor:
    """One simulated device: how it behaves and how it reports."""

    id: str
    kind: SimKind
    transport: Transport
    base: float = 0.0  # base water level (m) / mean sea level at the gauge (m)
    gain: float = 0.0  # meters of rise per mm/h of sustained catchment rain
    tau: float = 3 * 3600.0  # reservoir time constant, simulated seconds
    catchment: tuple[str, ...] = ()  # rain gauges feeding this river
    amplitude: float = 0.0  # tide amplitude (m)
    rain_factor: float = 1.0  # rain gauges: local share of a storm's intensity


# Gains are calibrated against conf.d/40-flood.yaml: over ten simulated days the largest
# storms take each river just past Awas, ordinary ones to Waspada or Siaga.
DEMO_NETWORK: tuple[SimSensor, ...] = (
    SimSensor("bkb-simongan", "water_level", "awlr", base=1.2, gain=0.062,
              catchment=("arr-gunungpati", "arr-banyumanik")),
    SimSensor("bkt-pedurungan", "water_level", "awlr", base=1.0, gain=0.107,
              catchment=("arr-banyumanik",)),
    SimSensor("garang-tugu-suharto", "water_level", "awlr", base=0.8, gain=0.093,
              tau=2 * 3600.0, catchment=("arr-gunungpati",)),
    SimSensor("babon-pucanggading", "water_level", "awlr", base=0.9, gain=0.092,
              catchment=("arr-banyumanik",)),
    SimSensor("tenggang-kaligawe", "water_level", "number", base=0.6, gain=0.072,
              tau=1.5 * 3600.0, catchment=("arr-simpang-lima",)),
    SimSensor("semarang-mberok", "water_level", "awlr", base=0.5, gain=0.065,
              tau=1.5 * 3600.0, catchment=("arr-simpang-lima",)),
    SimSensor("tide-tanjungmas", "tide", "senml", base=0.6, amplitude=0.45),
    SimSensor("rob-tambaklorok", "tide", "awlr", base=0.55, amplitude=0.5),
    SimSensor("arr-gunungpati", "rain_gauge", "arr", rain_factor=1.2),
    SimSensor("arr-banyumanik", "rain_gauge", "arr", rain_factor=1.0),
    SimSensor("arr-simpang-lima", "rain_gauge", "arr", rain_factor=0.7),
)


@dataclass
class Storm:
    start: float  # simulated seconds
    duration: float
    peak: float  # mm/h at a gauge with rain_factor 1

    def intensity(self, t: float) -> float:
        """Triangular hyetograph: rises to the peak at a third of the storm, then eases."""
        x = (t - self.start) / self.duration
        if x <= 0 or x >= 1:
            return 0.0
        return self.peak * (x / 0.33 if x < 0.33 else (1 - x) / 0.67)


@dataclass
class Reading:
    """What a device reports at one instant (input units: m, mm/h, mm, ratio, V, dBm)."""

    sensor: SimSensor
    at: float  # wall-clock epoch seconds
    level: float | None = None
    rain_rate: float | None = None
    rain: float | None = None  # mm since the previous report
    battery: float = 0.9
    battery_voltage: float = 12.6
    signal: float = -70.0


@dataclass
class Scenario:
    """All sensors' state, advanced tick by tick."""

    sensors: tuple[SimSensor, ...] = DEMO_NETWORK
    time_scale: float = 30.0
    seed: int = 7
    storm_every: float = 8 * 3600.0  # mean simulated time between storms
    levels: dict[str, float] = field(default_factory=dict)
    overrides: dict[str, float] = field(default_factory=dict)
    storms: list[Storm] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.sim_time = 0.0
        self._next_storm = 600.0 * self.time_scale / 30.0  # the first storm comes early
        for sensor in self.sensors:
            self.levels[sensor.id] = sensor.base
        self.by_id = {sensor.id: sensor for sensor in self.sensors}

    def rain_rate(self, gauge: SimSensor) -> float:
        return sum(s.intensity(self.sim_time) for s in self.storms) * gauge.rain_factor

    def advance(self, wall_dt: float) -> None:
        dt = wall_dt * self.time_scale
        self.sim_time += dt
        while self.sim_time >= self._next_storm:
            self.storms.append(Storm(
                start=self._next_storm,
                duration=self.rng.uniform(1.5, 4.0) * 3600.0,
                peak=self.rng.choice([8.0, 15.0, 25.0, 45.0, 70.0]),
            ))
            self._next_storm += self.rng.expovariate(1.0 / self.storm_every) + 3600.0
        self.storms = [s for s in self.storms if s.start + s.duration > self.sim_time]
        for sensor in self.sensors:
            if sensor.kind != "water_level":
                continue
            rain = sum(self.rain_rate(self.by_id[g]) for g in sensor.catchment if g in self.by_id)
            target = sensor.base + sensor.gain * rain
            alpha = 1.0 - math.exp(-dt / sensor.tau)
            self.levels[sensor.id] += (target - self.levels[sensor.id]) * alpha

    def tide(self, sensor: SimSensor) -> float:
        spring = 0.75 + 0.25 * math.cos(2 * math.pi * self.sim_time / SPRING_NEAP_PERIOD)
        phase = 2 * math.pi * self.sim_time / TIDE_PERIOD
        return sensor.base + sensor.amplitude * spring * math.sin(phase)

    def read(self, sensor: SimSensor, at: float, since: float) -> Reading:
        """The device's report now; `since` is the wall time of its previous report."""
        reading = Reading(sensor, at)
        reading.battery = round(0.55 + 0.4 * self.rng.random(), 2)
        reading.battery_voltage = round(11.8 + self.rng.random(), 2)
        reading.signal = float(self.rng.randint(-95, -60))
        pinned = self.overrides.get(sensor.id)
        if sensor.kind == "rain_gauge":
            rate = pinned if pinned is not None else self.rain_rate(sensor)
            reading.rain_rate = round(rate, 2)
            # depth fallen since the last report, in (compressed) simulated time
            reading.rain = round(rate * max(0.0, at - since) * self.time_scale / 3600.0, 3)
            return reading
        if pinned is not None:
            reading.level = pinned
            return reading
        true_level = self.tide(sensor) if sensor.kind == "tide" else self.levels[sensor.id]
        noise = self.rng.gauss(0.0, 0.01)
        if self.rng.random() < 0.01:
            noise += self.rng.choice([-0.3, 0.3])  # a wave or debris under the sensor head
        reading.level = round(true_level + noise, 3)
        return reading
