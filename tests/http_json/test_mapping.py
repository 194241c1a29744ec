"""Field mapping: numbers, text levels, labels, and what a bad item costs (itself only)."""

from __future__ import annotations

from typing import Any

from sitroom_http_json.config import MetricMapping
from sitroom_http_json.mapping import CompiledMapping, MappedMetric, apply


def mapped(document: Any, max_label_length: int = 128, **fields: Any) -> MappedMetric:
    spec: dict[str, Any] = {
        "name": "sitroom_test_speed_meters_per_second",
        "help": "speed",
        "unit": "meters_per_second",
        "path": "$.segments[*]",
        "value": "speed_kmh",
        "labels": {"segment": "id"},
        **fields,
    }
    return apply(CompiledMapping.compile(MetricMapping(**spec)), document, max_label_length)


def seg(**fields: Any) -> dict[str, Any]:
    return {"id": "jl-pemuda", "speed_kmh": 36, **fields}


def test_values_are_scaled_per_item() -> None:
    doc = {"segments": [seg(), seg(id="jl-kaligawe", speed_kmh=9)]}
    result = mapped(doc, scale=1 / 3.6)
    assert result.samples == {
        (("segment", "jl-pemuda"),): 36 / 3.6,
        (("segment", "jl-kaligawe"),): 9 / 3.6,
    }
    assert not result.errors


def test_missing_and_wrong_typed_fields_cost_only_their_item() -> None:
    doc = {
        "segments": [
            seg(id="ok"),
            {"id": "no-speed"},
            seg(id="null-speed", speed_kmh=None),
            seg(id="text-speed", speed_kmh="fast"),
            seg(id="object-speed", speed_kmh={"v": 1}),
            seg(id="nan-speed", speed_kmh="NaN"),
            {"speed_kmh": 20},  # no label value
            seg(id={"nested": True}),  # label of the wrong type
            seg(id="numeric-string", speed_kmh=" 42.5 "),
            seg(id=7),  # numbers are fine as label values
        ]
    }
    result = mapped(doc)
    assert set(result.samples) == {
        (("segment", "ok"),),
        (("segment", "numeric-string"),),
        (("segment", "7"),),
    }
    assert result.samples[(("segment", "numeric-string"),)] == 42.5
    assert result.errors == {"missing": 3, "type": 4}


def test_text_levels_and_booleans() -> None:
    doc = {"segments": [seg(level="Macet"), seg(id="b", level="lancar"), seg(id="c", level=True),
                        seg(id="d", level="unknown")]}
    result = mapped(doc, value="level", value_map={"lancar": 0, "macet": 3})
    assert result.samples == {
        (("segment", "jl-pemuda"),): 3.0,
        (("segment", "b"),): 0.0,
        (("segment", "c"),): 1.0,
    }
    assert result.errors == {"type": 1}


def test_no_match_counts_missing_and_yields_nothing() -> None:
    result = mapped({"other": []})
    assert not result.samples and result.errors == {"missing": 1}
    assert mapped({"segments": {"not": "a list"}}).errors == {"missing": 1}


def test_item_limit_duplicates_and_label_length() -> None:
    doc = {"segments": [seg(id=f"s{i}") for i in range(5)] + [seg(id="s0", speed_kmh=1)]}
    limited = mapped(doc, max_items=3)
    assert len(limited.samples) == 3 and limited.errors == {"too_many_items": 3}
    dup = mapped(doc)
    assert dup.errors == {"duplicate": 1}
    assert dup.samples[(("segment", "s0"),)] == 1  # the later item wins
    long = mapped({"segments": [seg(id="x" * 20), seg(id="")]}, max_label_length=10)
    assert not long.samples and long.errors == {"label": 2}


def test_single_value_and_info() -> None:
    single = MetricMapping(
        name="sitroom_tide_forecast_level_meters",
        help="tide",
        unit="meters",
        path="$.next_high.level_m",
    )
    result = apply(CompiledMapping.compile(single), {"next_high": {"level_m": 1.4}}, 128)
    assert result.samples == {(): 1.4}
    info = MetricMapping(
        name="sitroom_test_segment_info",
        type="info",
        help="segments",
        path="$.segments[*]",
        labels={"segment": "id", "name": "name"},
    )
    doc = {"segments": [{"id": "a", "name": "Jl. A"}, {"id": "b"}]}
    result = apply(CompiledMapping.compile(info), doc, 128)
    assert result.samples == {(("segment", "a"), ("name", "Jl. A")): 1.0}
    assert result.errors == {"missing": 1}
