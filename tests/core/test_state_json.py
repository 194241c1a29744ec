"""SourceContext.save_state_json / load_state_json: atomic, durable, forgiving on read."""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import structlog

from sitroom.context import SourceContext
from sitroom.metrics.store import MetricStore


@pytest.fixture
def ctx(tmp_path: Path):  # type: ignore[no-untyped-def]
    executor = ThreadPoolExecutor(max_workers=2)
    store = MetricStore()
    context = SourceContext(name="gw", kind="demo", metrics=store.writer("gw", [], ("gw",), 100),
                            executor=executor, state_dir=tmp_path)
    yield context
    executor.shutdown(wait=True)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


async def test_round_trip_and_file_details(ctx: SourceContext, tmp_path: Path) -> None:
    assert ctx.load_state_json("seen.json") is None  # first start: nothing, no error
    data = {"a": 1.5, "b": [1, 2, 3], "teks": "Banjir di Genuk"}
    await ctx.save_state_json("seen.json", data)
    path = tmp_path / "demo" / "gw.seen.json"
    assert json.loads(path.read_text()) == data
    assert ctx.load_state_json("seen.json") == data
    assert path.stat().st_mode & 0o777 == 0o600  # state is the daemon's alone
    assert leftovers(path.parent) == []


async def test_corrupt_file_reads_as_none_and_is_logged_once(ctx: SourceContext,
                                                             tmp_path: Path) -> None:
    path = ctx.state_path("seen.json")
    path.write_text('{"half": ')
    with structlog.testing.capture_logs() as logs:
        assert ctx.load_state_json("seen.json") is None
        assert ctx.load_state_json("seen.json") is None
    warnings = [e for e in logs if e["event"] == "state_file_unreadable"]
    assert len(warnings) == 1 and warnings[0]["file"] == path.name
    await ctx.save_state_json("seen.json", {"fresh": True})  # a save replaces the broken one
    assert ctx.load_state_json("seen.json") == {"fresh": True}


async def test_failed_save_keeps_the_old_file_whole(ctx: SourceContext,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    await ctx.save_state_json("seen.json", {"version": 1})
    path = ctx.state_path("seen.json")
    with pytest.raises(TypeError):  # not serialisable: nothing is written at all
        await ctx.save_state_json("seen.json", {"bad": {1, 2}})
    assert json.loads(path.read_text()) == {"version": 1}

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)  # the rename never happens (crash, full disk)
    with pytest.raises(OSError):
        await ctx.save_state_json("seen.json", {"version": 2})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"version": 1}  # old file, whole
    assert leftovers(path.parent) == []  # and the temp file is gone


async def test_concurrent_saves_never_leave_a_partial_file(ctx: SourceContext) -> None:
    big = [{"sensor": f"s{i}", "at": i * 1.5} for i in range(2000)]
    saves = [ctx.save_state_json("seen.json", {"n": n, "rows": big}) for n in range(12)]
    await asyncio.gather(*saves)
    saved = ctx.load_state_json("seen.json")
    assert saved is not None and saved["rows"] == big and 0 <= saved["n"] < 12
    assert leftovers(ctx.state_path("seen.json").parent) == []
