"""A failing, crashing or hung source never stops the others, a scrape, or a reload."""

from __future__ import annotations

import asyncio
import json

from tests.support import sample_value


async def wait_for(predicate, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def up(daemon, name: str) -> float | None:
    runner = daemon.daemon.runners[name]
    return daemon.daemon.core.get("sitroom_source_up", kind=runner.kind.name, source=name)


def errors(daemon, name: str, reason: str) -> float | None:
    runner = daemon.daemon.runners[name]
    return daemon.daemon.core.get(
        "sitroom_source_errors_total", kind=runner.kind.name, source=name, reason=reason
    )


async def test_bad_sources_leave_good_ones_running(write_config, start_daemon):
    config_dir = write_config(sources=[
        {"kind": "tick", "name": "good", "interval": "100ms"},
        {"kind": "fail", "name": "bad-device", "interval": "100ms"},
        {"kind": "crash", "name": "buggy-plugin", "interval": "100ms"},
        {"kind": "hang", "name": "hung-device", "interval": "100ms", "timeout": "300ms"},
    ])
    d = await start_daemon(config_dir)
    ticks = lambda: d.daemon.runners["good"].ctx.metrics.get(  # noqa: E731
        "sitroom_test_ticks_total", item="main") or 0
    await wait_for(lambda: ticks() >= 3 and (errors(d, "hung-device", "timeout") or 0) >= 1)
    assert up(d, "good") == 1
    assert up(d, "bad-device") == 0 and errors(d, "bad-device", "protocol") >= 1
    assert up(d, "buggy-plugin") == 0 and errors(d, "buggy-plugin", "internal") >= 1
    assert up(d, "hung-device") == 0
    # a scrape is answered while one source is hung inside collect()
    status, body = await d.get("/metrics")
    assert status == 200
    assert sample_value(body, "sitroom_source_up", source="good") == 1
    assert sample_value(body, "sitroom_source_up", source="hung-device") == 0
    status, body = await d.get("/api/v1/sources")
    states = {s["name"]: s for s in json.loads(body)["sources"]}
    assert states["bad-device"]["state"] == "failing"
    assert states["bad-device"]["last_error_reason"] == "protocol"
    assert states["good"]["state"] == "ok"


async def test_failing_source_backs_off(write_config, start_daemon):
    config_dir = write_config(sources=[{"kind": "fail", "name": "bad", "interval": "50ms"}])
    d = await start_daemon(config_dir)
    await asyncio.sleep(1.0)
    # without backoff, 50 ms polls would fail ~20 times in a second; doubling allows ~5
    attempts = errors(d, "bad", "protocol")
    assert attempts is not None and 1 <= attempts <= 7


async def test_recovery_is_reported_once(write_config, start_daemon, tmp_path):
    config_dir = write_config(sources=[{"kind": "tick", "name": "t", "interval": "50ms"}])
    d = await start_daemon(config_dir)
    runner = d.daemon.runners["t"]
    await wait_for(lambda: runner.ctx.status.state == "ok")
    runner._failure(ConnectionError("link down"))
    assert runner.ctx.status.state == "failing"
    await wait_for(lambda: runner.ctx.status.state == "ok")
    assert runner.ctx.status.consecutive_failures == 0
    assert errors(d, "t", "connect") == 1


async def test_hung_source_does_not_block_reload(write_config, start_daemon):
    config_dir = write_config(sources=[
        {"kind": "hang", "name": "stuck", "interval": "100ms", "timeout": "30s"},
        {"kind": "tick", "name": "t", "interval": "100ms"},
    ])
    d = await start_daemon(config_dir)
    await asyncio.sleep(0.3)
    write_config(sources=[{"kind": "tick", "name": "t", "interval": "100ms"}])
    ok, problems = await asyncio.wait_for(d.daemon.reload(), timeout=5)
    assert ok, problems
    assert set(d.daemon.runners) == {"t"}
