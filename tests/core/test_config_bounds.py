"""Hostile and absurd config (issue 16): deep nesting gave a traceback, a reload error named
no file, and `interval: 99999999999999999999999999d` passed check-config."""

from __future__ import annotations

import math
import typing
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import annotated_types as at
import pytest
from pydantic import BaseModel, ValidationError

from sitroom.config import (
    MAX_CONFIG_DEPTH,
    MAX_DURATION_SECONDS,
    ConfigModel,
    DaemonConfig,
    parse_duration,
)
from sitroom.plugins import load_plugins
from sitroom.validation import load_config

from .conftest import make_test_plugins
from .test_config import check_config

DEEP_FLOW = "sources:\n  - kind: tick\n    name: a\n    x: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_BLOCK = "sources:\n" + "".join("  " * i + "- \n" for i in range(1, 400))
ALIAS_BOMB = "".join(
    [f"a0: &a0 [{', '.join(['x'] * 10)}]\n"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)]
    + ["sources:\n  - kind: tick\n    name: a\n    x: *a8\n"])


@pytest.mark.parametrize("raw", [DEEP_FLOW, DEEP_BLOCK], ids=["flow", "block"])
def test_check_config_on_deep_nesting_is_a_clear_error(write_config, raw):
    config_dir = write_config(raw=raw, name="50-deep.yaml")
    result = check_config(config_dir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "50-deep.yaml" in result.stderr and f"{MAX_CONFIG_DEPTH}" in result.stderr


def test_alias_bombs_are_refused(write_config):
    config_dir = write_config(raw=ALIAS_BOMB, name="50-bomb.yaml")
    loaded = load_config(config_dir, make_test_plugins())
    assert any("50-bomb.yaml" in str(i) and "aliases" in str(i) for i in loaded.issues), (
        loaded.issues)


async def test_reload_errors_name_the_file(write_config, start_daemon):
    config_dir = write_config(sources=[{"kind": "tick", "name": "a", "interval": "1s"}])
    d = await start_daemon(config_dir)
    write_config(raw=DEEP_FLOW, name="60-deep.yaml")
    ok, problems = await d.daemon.reload()
    assert not ok
    assert problems and all("60-deep.yaml" in p for p in problems), problems
    assert "a" in d.daemon.runners


@pytest.mark.parametrize("absurd", ["99999999999999999999999999d", "1e400", 10**30, math.inf,
                                    math.nan, "366d", 1e12, "nan", "inf"])
def test_absurd_durations_are_refused_with_the_limit(absurd):
    with pytest.raises(ValueError) as info:
        parse_duration(absurd)
    assert str(int(MAX_DURATION_SECONDS)) in str(info.value) or "duration such as" in str(
        info.value)


def test_absurd_interval_fails_check_config(write_config):
    config_dir = write_config(
        raw="sources:\n  - kind: http_probe\n    name: a\n    url: http://127.0.0.1/\n"
            "    interval: 99999999999999999999999999d\n",
        name="50-absurd.yaml")
    result = check_config(config_dir)
    assert result.returncode == 1
    assert "50-absurd.yaml" in result.stderr and "at most" in result.stderr


def _int_fields(model: type[BaseModel], path: str, seen: set[type]) -> Iterator[
        tuple[str, Any, list[Any]]]:
    """Every int-typed field (or list-of-int item) of `model` and the models it nests."""
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        where = f"{path}.{name}"
        annotation = info.annotation
        args = typing.get_args(annotation)
        if annotation is int or (int in args and typing.get_origin(annotation) is not list):
            yield where, annotation, info.metadata
        for arg in args:
            if typing.get_origin(arg) is typing.Annotated and typing.get_args(arg)[0] is int:
                yield f"{where}[]", arg, list(arg.__metadata__)
        nested = [annotation, *args, *(a for t in args for a in typing.get_args(t))]
        for candidate in nested:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                if not issubclass(candidate, ConfigModel):
                    yield where, candidate, ["not a ConfigModel: inf/NaN would pass"]
                yield from _int_fields(candidate, where, seen)


BUILTIN_PLUGINS = {ep.name for ep in entry_points(group="sitroom.plugins")
                   if ep.dist is not None and ep.dist.name == "sitroom"}
"""Every plugin this distribution registers (the core tests' fixture plugins are not)."""


def _bounded(metadata: list[Any]) -> bool:
    flat = [m for item in metadata for m in getattr(item, "metadata", [item])]
    return any(isinstance(m, at.Le | at.Lt) for m in flat)


def test_every_count_and_size_in_config_has_an_upper_bound():
    """Durations are bounded by parse_duration, floats are finite (ConfigModel), and every
    integer setting (counts, sizes, ports) has a maximum that its error message states."""
    plugins = load_plugins()
    models: list[tuple[str, type[BaseModel]]] = [("daemon", DaemonConfig)]
    models += [(name, kind.config_model) for name, kind in sorted(plugins.kinds.items())
               if plugins.kind_plugin.get(name) in BUILTIN_PLUGINS]
    assert len(models) > 10
    unbounded = [
        f"{where}: {annotation}"
        for root, model in models
        for where, annotation, metadata in _int_fields(model, root, set())
        if not _bounded(metadata)
    ]
    assert not unbounded, unbounded


def test_bounds_are_stated_in_the_message():
    with pytest.raises(ValidationError) as info:
        DaemonConfig.model_validate({"limits": {"max_series_per_source": 10**12}})
    assert "10000000" in str(info.value)
    with pytest.raises(ValidationError) as info:
        DaemonConfig.model_validate({"limits": {"shutdown_timeout": "400d"}})
    assert "365d" in str(info.value)
