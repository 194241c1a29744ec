"""The path language: what each step reaches, and that typos fail at parse time."""

from __future__ import annotations

import pytest

from sitroom_http_json import jsonpath

DOC = {
    "segments": [
        {"id": "a", "speed_kmh": 30, "loc": {"district": "Tugu"}},
        {"id": "b", "speed_kmh": 12.5, "loc": {"district": "Genuk"}},
    ],
    "stations": {"tanjung-mas": {"level": 1.2}, "kendal": {"level": 0.9}},
    "odd key": {"with.dot": 7},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.segments[*].speed_kmh", [30, 12.5]),
        ("$.segments[1].id", ["b"]),
        ("$.segments[-1].loc.district", ["Genuk"]),
        ("$.stations.*.level", [1.2, 0.9]),
        ("$['odd key']['with.dot']", [7]),
        ("$.segments[5].id", []),
        ("$.segments.id", []),  # a key step on a list reaches nothing
        ("$.missing[*]", []),
        ("$.segments[0].speed_kmh.deeper", []),
    ],
)
def test_absolute_paths(path: str, expected: list[object]) -> None:
    parsed = jsonpath.parse(path)
    assert parsed.absolute
    assert parsed.find(DOC) == expected


def test_relative_paths_and_current_item() -> None:
    item = DOC["segments"][0]
    assert jsonpath.parse("loc.district").find(item) == ["Tugu"]
    assert not jsonpath.parse("loc.district").absolute
    assert jsonpath.parse("@").find(item) == [item]
    assert jsonpath.parse("$").find(DOC) == [DOC]
    assert jsonpath.parse("$.segments[*]").multi and not jsonpath.parse("$.a.b").multi


@pytest.mark.parametrize("bad", ["", "   ", "$.", "$..x", "$.a[", "$.a[x]", "$[?(@.x)]", "a b"])
def test_bad_paths_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="path"):
        jsonpath.parse(bad)
