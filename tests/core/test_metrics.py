"""The metric store and exposition: declared names only, exact labels, valid output."""

from __future__ import annotations

import math

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as text_parse

from sitroom.declarations import MetricSpec
from sitroom.metrics.exposition import render
from sitroom.metrics.store import MetricStore, format_value

LEVEL = MetricSpec("sitroom_test_level_meters", "gauge", "Level.", ("sensor",), unit="meters")
MSGS = MetricSpec("sitroom_test_messages_total", "counter", "Messages.", ("sensor",))
INFO = MetricSpec("sitroom_test_sensor_info", "info", "About.", ("sensor", "district"))
HIST = MetricSpec("sitroom_test_wait_seconds", "histogram", "Wait.", (), unit="seconds",
                  buckets=(0.1, 1.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "level", "type": "gauge"}, "names must match"),
        ({"name": "sitroom_x", "type": "counter"}, "must end in _total"),
        ({"name": "sitroom_x_total", "type": "gauge"}, "must not end in _total"),
        ({"name": "sitroom_x", "type": "info"}, "must end in _info"),
        ({"name": "sitroom_x", "type": "gauge", "help": " "}, "needs help"),
        ({"name": "sitroom_x", "type": "gauge", "unit": "meters"}, "must contain its unit"),
        ({"name": "sitroom_x", "type": "gauge", "labels": ("source",)}, "reserved"),
        ({"name": "sitroom_x", "type": "gauge", "labels": ("Bad-Label",)}, "invalid"),
        ({"name": "sitroom_x", "type": "gauge", "labels": ("a", "a")}, "duplicate"),
    ],
)
def test_spec_rules(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MetricSpec(**{"help": "h", **kwargs})


def test_writer_enforces_declarations():
    store = MetricStore()
    writer = store.writer("s1", [LEVEL, MSGS], ("s1",))
    with pytest.raises(KeyError, match="not declared"):
        writer.set(MetricSpec("sitroom_test_other", "gauge", "Other."), 1)
    with pytest.raises(ValueError, match="expected labels"):
        writer.set(LEVEL, 1, station="a")
    with pytest.raises(ValueError, match="expected labels"):
        writer.set(LEVEL, 1, sensor="a", extra="b")
    with pytest.raises(ValueError, match="cannot decrease"):
        writer.inc(MSGS, -1, sensor="a")
    assert writer.series_count == 0


def test_conflicting_redeclaration_is_refused():
    store = MetricStore()
    store.writer("a", [LEVEL], ("a",)).set(LEVEL, 1, sensor="x")
    with pytest.raises(ValueError, match="different definitions"):
        store.declare(MetricSpec(LEVEL.name, "gauge", "Other help.", ("sensor",), unit="meters"))


def test_remove_owner_and_matching():
    store = MetricStore()
    a = store.writer("a", [LEVEL], ("a",))
    b = store.writer("b", [LEVEL], ("b",))
    for sensor in ("x", "y"):
        a.set(LEVEL, 1, sensor=sensor)
        b.set(LEVEL, 2, sensor=sensor)
    assert a.remove_matching(LEVEL, sensor="x") == 1
    assert a.samples(LEVEL.name) == {("y",): 1.0}
    store.remove_owner("a")
    assert 'source="a"' not in render(store)
    assert b.get(LEVEL.name, sensor="x") == 2


def test_text_and_openmetrics_parse_back():
    store = MetricStore()
    writer = store.writer("s1", [LEVEL, MSGS, INFO, HIST], ("s1",))
    writer.set(LEVEL, 1.25, sensor='quote"and\\slash\nnewline')
    writer.set(LEVEL, math.nan, sensor="nan")
    writer.inc(MSGS, 3, sensor="a")
    writer.info(INFO, sensor="a", district="Semarang Utara")
    writer.observe(HIST, 0.05)
    writer.observe(HIST, 5)
    text = render(store)
    families = {f.name: f for f in text_parse(text)}
    level = {s.labels["sensor"]: s.value for s in families[LEVEL.name].samples}
    assert level['quote"and\\slash\nnewline'] == 1.25
    assert math.isnan(level["nan"])
    assert families["sitroom_test_messages"].samples[0].value == 3
    buckets = {s.labels.get("le"): s.value for s in families[HIST.name].samples
               if s.name.endswith("_bucket")}
    assert buckets == {"0.1": 1, "1": 1, "+Inf": 2}
    om = render(store, openmetrics=True)
    assert om.endswith("# EOF\n")
    om_families = {f.name: f for f in om_parse(om)}
    assert om_families["sitroom_test_sensor"].type == "info"
    assert om_families["sitroom_test_messages"].type == "counter"
    assert om_families["sitroom_test_level_meters"].unit == "meters"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1"), (0.5, "0.5"), (math.inf, "+Inf"), (-math.inf, "-Inf"), (1e20, "1e+20"),
     (-3.0, "-3")],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_limit_counts_drops_and_keeps_existing_series():
    dropped: list[str] = []
    store = MetricStore()
    writer = store.writer("s", [LEVEL], ("s",), max_series=2, on_drop=dropped.append)
    for sensor in "abcd":
        writer.set(LEVEL, 1, sensor=sensor)
    writer.set(LEVEL, 7, sensor="a")  # existing series still update at the limit
    assert writer.samples(LEVEL.name) == {("a",): 7.0, ("b",): 1.0}
    assert dropped == [LEVEL.name, LEVEL.name]


def test_writes_name_the_family_by_its_declared_spec():
    store = MetricStore()
    writer = store.writer("river", [LEVEL, MSGS], ("river",))
    writer.set(LEVEL, 1.5, sensor="s1")
    writer.inc(MSGS, sensor="s1")
    assert writer.get("sitroom_test_level_meters", sensor="s1") == 1.5
    assert writer.get(MSGS, sensor="s1") == 1.0
    impostor = MetricSpec("sitroom_test_level_meters", "gauge", "Other.", ("sensor",),
                          unit="meters")
    with pytest.raises(KeyError, match="not the one"):
        writer.set(impostor, 2.0, sensor="s1")
    with pytest.raises(KeyError, match="not declared"):
        writer.set(INFO, 1.0, sensor="s1", district="x")


def test_writes_refuse_names_so_typos_fail_at_import():
    store = MetricStore()
    writer = store.writer("river", [LEVEL], ("river",))
    for write in (writer.set, writer.inc, writer.observe):
        with pytest.raises(TypeError, match="declared MetricSpec"):
            write(LEVEL.name, 1, sensor="s1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="declared MetricSpec"):
        writer.info(LEVEL.name, sensor="s1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="declared MetricSpec"):
        writer.remove(LEVEL.name, sensor="s1")  # type: ignore[arg-type]
    assert writer.series_count == 0


def test_an_equal_spec_built_elsewhere_writes_the_same_family():
    """Sources that build their configured specs from config (http_json) pass equal copies."""
    store = MetricStore()
    writer = store.writer("river", [LEVEL], ("river",))
    for _ in range(100):  # more copies than the writer remembers: every one still works
        copy = MetricSpec("sitroom_test_level_meters", "gauge", "Level.", ("sensor",),
                          unit="meters")
        writer.inc(copy, 1, sensor="s1")
    assert writer.get(LEVEL, sensor="s1") == 100
