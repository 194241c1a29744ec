"""Read planning: contiguous points merge up to the protocol limits, nothing else merges."""

from __future__ import annotations

from typing import Any

from sitroom_pumps.config import PumpStationConfig
from sitroom_pumps.planner import place_points, plan_reads


def station(points: list[dict[str, Any]], pumps: int = 0, stride: int = 1,
            **extra: Any) -> PumpStationConfig:
    register_map: dict[str, Any] = {}
    if pumps:
        register_map["pump"] = {"stride": stride, "points": points}
    else:
        register_map["station"] = points
    device = {"unit": 1, "map": register_map}
    if pumps:
        device["pumps"] = [f"P{i}" for i in range(pumps)]
    return PumpStationConfig.model_validate(
        {"name": "t", "host": "127.0.0.1", "devices": [device], **extra})


def plan(config: PumpStationConfig):
    return plan_reads(place_points(config), max_registers=config.max_registers_per_read,
                      max_bits=config.max_bits_per_read, merge_gap=config.merge_gap)


def test_contiguous_pump_blocks_merge_into_one_read():
    config = station([{"role": "current", "address": 0, "type": "u16"},
                      {"role": "flow", "address": 1, "type": "f32"}], pumps=4, stride=3)
    reads = plan(config)
    assert [(r.function, r.start, r.count) for r in reads] == [("holding", 0, 12)]
    assert len(reads[0].points) == 8


def test_register_limit_splits_reads():
    config = station([{"role": "current", "address": 0}], pumps=130)
    reads = plan(config)
    assert [(r.start, r.count) for r in reads] == [(0, 125), (125, 5)]
    small = station([{"role": "current", "address": 0}], pumps=130, max_registers_per_read=10)
    assert len(plan(small)) == 13


def test_bit_limit_is_2000():
    config = station([{"role": "running", "function": "coil", "address": 0, "type": "bool"}],
                     pumps=2100)
    assert [(r.start, r.count) for r in plan(config)] == [(0, 2000), (2000, 100)]


def test_a_wide_value_never_straddles_two_reads():
    config = station([{"role": "current", "address": 0, "type": "f64"}], pumps=40, stride=4,
                     max_registers_per_read=10)
    reads = plan(config)
    assert all(r.count <= 10 and r.count % 4 == 0 for r in reads)
    assert sum(len(r.points) for r in reads) == 40


def test_gaps_functions_and_units_do_not_merge_by_default():
    config = PumpStationConfig.model_validate({
        "name": "t", "host": "127.0.0.1", "devices": [
            {"unit": 1, "map": {"station": [
                {"role": "sump_level", "address": 0},
                {"role": "river_level", "address": 2},
                {"role": "fuel_level", "function": "input", "address": 1},
            ]}},
            {"unit": 2, "map": {"station": [{"role": "genset_running", "address": 1}]}},
        ]})
    reads = plan(config)
    assert [(r.unit, r.function, r.start, r.count) for r in reads] == [
        (1, "holding", 0, 1), (1, "holding", 2, 1), (1, "input", 1, 1), (2, "holding", 1, 1)]
    gap = config.model_copy(update={"merge_gap": 1})
    assert [(r.unit, r.start, r.count) for r in plan(gap)][:1] == [(1, 0, 3)]


def test_overlapping_points_share_a_register():
    config = station([{"role": "running", "address": 5, "type": "bit", "bit": 0},
                      {"role": "fault", "address": 5, "type": "bit", "bit": 1}], pumps=1)
    reads = plan(config)
    assert [(r.start, r.count, len(r.points)) for r in reads] == [(5, 1, 2)]
