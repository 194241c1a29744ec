"""Read planning: turn a station's points into as few Modbus requests as the device allows.

Small PLCs answer one request at a time and a serial gateway behind them needs tens of
milliseconds per request, so the number of requests, not the number of registers, is what a
poll costs. Points are grouped by unit id and function, sorted, and merged while the range
stays within the protocol limit (125 registers, 2000 bits) and the gap between neighbours
stays within `merge_gap` (default 0: only truly contiguous addresses, since reading an
unmapped register makes many devices answer "illegal address").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sitroom.api import MetricSpec
from sitroom_pumps.config import PumpStationConfig
from sitroom_pumps.registermap import BIT_FUNCTIONS, PointSpec


@dataclass(frozen=True)
class Point:
    """A point placed on a concrete unit and address, for one station or pump."""

    id: str  # the `point` label: "station.sump_level", "P1.current"
    unit: int
    address: int
    spec: PointSpec
    pump: str | None = None
    metric: MetricSpec | None = None  # the family it writes (None for strings)

    @property
    def width(self) -> int:
        return self.spec.width


@dataclass
class Read:
    """One request: `count` registers (or bits) from `start` on one unit and function."""

    unit: int
    function: str
    start: int
    count: int
    points: list[Point] = field(default_factory=list)


def place_points(config: PumpStationConfig) -> list[Point]:
    """Expand every device's map into concrete points (pump blocks repeated per pump)."""
    points: list[Point] = []
    # one spec object per configured family, shared by its points (the writer's fast path)
    families = {spec.name: spec for spec in config.configured_metrics()}

    def family(spec: PointSpec) -> MetricSpec | None:
        if spec.shape == "string":
            return None
        if spec.metric is not None:
            return families[spec.metric.name]
        return spec.metric_spec("station")

    for device in config.devices:
        register_map = device.register_map
        offset = device.address_offset
        for spec in register_map.station:
            points.append(Point(f"station.{spec.key}", device.unit, spec.address + offset,
                                spec, metric=family(spec)))
        if register_map.pump is None:
            continue
        for index, pump in enumerate(device.pumps):
            for spec in register_map.pump.points:
                stride = register_map.pump.stride if spec.stride is None else spec.stride
                address = spec.address + offset + index * stride
                points.append(Point(f"{pump}.{spec.key}", device.unit, address, spec, pump,
                                    family(spec)))
    return points


def plan_reads(
    points: list[Point], *, max_registers: int = 125, max_bits: int = 2000, merge_gap: int = 0
) -> list[Read]:
    """Merge points into reads; deterministic order (unit, function, address)."""
    groups: dict[tuple[int, str], list[Point]] = defaultdict(list)
    for point in points:
        groups[(point.unit, point.spec.function)].append(point)
    reads: list[Read] = []
    for (unit, function), members in sorted(groups.items()):
        limit = max_bits if function in BIT_FUNCTIONS else max_registers
        members.sort(key=lambda p: (p.address, p.width))
        current: Read | None = None
        for point in members:
            end = point.address + point.width
            if (
                current is not None
                and point.address <= current.start + current.count + merge_gap
                and max(end, current.start + current.count) - current.start <= limit
            ):
                current.count = max(end, current.start + current.count) - current.start
                current.points.append(point)
                continue
            current = Read(unit, function, point.address, point.width, [point])
            reads.append(current)
    return reads

