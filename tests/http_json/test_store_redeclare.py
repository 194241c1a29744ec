"""Core support for configured families: redefinition only once nobody holds series."""

from __future__ import annotations

import pytest

from sitroom.api import MetricSpec
from sitroom.metrics.store import MetricStore


def spec(help_text: str, labels: tuple[str, ...] = ("segment",)) -> MetricSpec:
    return MetricSpec("sitroom_x_level", "gauge", help_text, labels)


def test_family_without_series_can_be_redefined() -> None:
    store = MetricStore()
    before = spec("old")
    old = store.writer("a", [before], ("a",))
    old.set(before, 1, segment="s")
    with pytest.raises(ValueError, match="declared twice"):
        store.writer("b", [spec("new")], ("b",))
    store.remove_owner("a")  # what the daemon does when source a stops on reload
    after = spec("new", ("segment", "name"))
    new = store.writer("a", [after], ("a",))
    new.set(after, 2, segment="s", name="Jl. A")  # `name` is a usable label
    assert store.families["sitroom_x_level"].spec.help == "new"
    assert new.get("sitroom_x_level", segment="s", name="Jl. A") == 2


def test_family_held_by_another_writer_is_not_redefined_even_without_series() -> None:
    store = MetricStore()
    first = store.writer("a", [spec("old")], ("a",))
    with pytest.raises(ValueError, match="declared twice"):
        store.writer("b", [spec("new")], ("b",))  # a has written nothing yet: still refused
    first.clear()  # a source emptying its own series keeps its claim
    with pytest.raises(ValueError, match="declared twice"):
        store.writer("b", [spec("new")], ("b",))
    shared = spec("old")
    same = store.writer("b", [shared], ("b",))  # the same definition is shared
    same.set(shared, 1, segment="s")
    assert store.families["sitroom_x_level"].holders == {"a", "b"}


def test_metrics_of_extends_and_refuses_repeats() -> None:
    from pydantic import BaseModel

    from sitroom.api import SourceKind

    fixed = MetricSpec("sitroom_x_fixed", "gauge", "fixed")
    kind = SourceKind("k", BaseModel, lambda c, x: None, (fixed,),  # type: ignore[arg-type,return-value]
                      metrics_for=lambda config: [spec(config)])
    assert [m.name for m in kind.metrics_of("extra")] == ["sitroom_x_fixed", "sitroom_x_level"]
    clashing = SourceKind("k", BaseModel, lambda c, x: None, (fixed,),  # type: ignore[arg-type,return-value]
                          metrics_for=lambda config: [fixed])
    with pytest.raises(ValueError, match="repeats a declared name"):
        clashing.metrics_of(None)
    plain = SourceKind("k", BaseModel, lambda c, x: None, (fixed,))  # type: ignore[arg-type,return-value]
    assert plain.metrics_of(object()) == (fixed,)
