"""Reload: all-or-nothing, unchanged sources keep state, removed sources leave no series."""

from __future__ import annotations

import asyncio

import sitroom_testkinds
from tests.support import sample_value

from .test_supervision import wait_for


def ticks(d, name: str) -> float:
    return d.daemon.runners[name].ctx.metrics.get("sitroom_test_ticks_total", item="main") or 0


async def test_bad_reload_keeps_old_config(write_config, start_daemon):
    config_dir = write_config(sources=[{"kind": "tick", "name": "a", "interval": "50ms"}])
    d = await start_daemon(config_dir)
    runner = d.daemon.runners["a"]
    await wait_for(lambda: ticks(d, "a") >= 2)
    write_config(raw="sources:\n  - kind: tick\n    name: b\n    interval: soon\n",
                 name="20-broken.yaml")
    ok, problems = await d.daemon.reload()
    assert not ok
    assert any("20-broken.yaml" in p and "interval" in p for p in problems), problems
    assert d.daemon.runners["a"] is runner and not runner.task.done()
    before = ticks(d, "a")
    await wait_for(lambda: ticks(d, "a") > before)
    status, body = await d.get("/metrics")
    assert sample_value(body, "sitroom_config_last_reload_successful") == 0
    assert "b" not in d.daemon.runners


async def test_reload_restarts_only_changed_sources(write_config, start_daemon):
    config_dir = write_config(sources=[
        {"kind": "tick", "name": "same", "interval": "50ms"},
        {"kind": "tick", "name": "changed", "interval": "50ms"},
        {"kind": "tick", "name": "removed", "interval": "50ms", "series": 3},
    ])
    d = await start_daemon(config_dir)
    same = d.daemon.runners["same"]
    await wait_for(lambda: ticks(d, "removed") >= 2 and ticks(d, "same") >= 2)
    status, body = await d.get("/metrics")
    assert sample_value(body, "sitroom_test_item_value", source="removed", item="i2") == 2
    write_config(sources=[
        {"kind": "tick", "name": "same", "interval": "50ms"},
        {"kind": "tick", "name": "changed", "interval": "50ms", "step": 5},
        {"kind": "tick", "name": "added", "interval": "50ms"},
    ])
    counted = ticks(d, "same")
    ok, problems = await d.daemon.reload()
    assert ok, problems
    assert d.daemon.runners["same"] is same  # unchanged: same task, counter keeps counting
    assert ticks(d, "same") >= counted
    await wait_for(lambda: ticks(d, "changed") >= 10 and ticks(d, "added") >= 1)
    status, body = await d.get("/metrics")
    assert 'source="removed"' not in body  # plugin and self-metric series both gone
    assert sample_value(body, "sitroom_config_last_reload_successful") == 1


async def test_reload_endpoint_needs_token(write_config, start_daemon, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token-value\n")
    config_dir = write_config(daemon={"auth": {"token_file": str(token_file)}},
                              sources=[{"kind": "tick", "name": "a"}])
    d = await start_daemon(config_dir)
    assert (await d.post("/-/reload"))[0] == 401
    assert (await d.post("/-/reload", headers={"Authorization": "Bearer wrong"}))[0] == 401
    status, body = await d.post("/-/reload",
                                headers={"Authorization": "Bearer s3cret-token-value"})
    assert status == 200 and '"success"' in body


async def test_protected_endpoints_closed_without_token(write_config, start_daemon):
    d = await start_daemon(write_config(sources=[{"kind": "tick", "name": "a"}]))
    status, body = await d.post("/-/reload", headers={"Authorization": "Bearer anything"})
    assert status == 403 and "token_file" in body


async def test_series_limit_holds(write_config, start_daemon):
    config_dir = write_config(
        daemon={"limits": {"max_series_per_source": 5}},
        sources=[{"kind": "tick", "name": "noisy", "interval": "50ms", "series": 20}],
    )
    d = await start_daemon(config_dir)
    writer = d.daemon.runners["noisy"].ctx.metrics
    await wait_for(lambda: writer.dropped > 0)
    assert writer.series_count == 5
    status, body = await d.get("/metrics")
    assert sample_value(body, "sitroom_source_series", source="noisy") == 5
    assert sample_value(body, "sitroom_source_series_dropped_total", source="noisy") >= 16
    assert body.count('sitroom_test_item_value{source="noisy"') == 4  # + the ticks series


async def test_push_series_expire_but_last_seen_stays(write_config, start_daemon):
    config_dir = write_config(sources=[{"kind": "push", "name": "p", "stale_after": "0.3s"}])
    d = await start_daemon(config_dir)
    writer = d.daemon.runners["p"].ctx.metrics
    await wait_for(lambda: writer.get("sitroom_test_push_value", item="main") == 1)
    await asyncio.sleep(1.6)  # housekeeping runs once a second
    assert writer.get("sitroom_test_push_value", item="main") is None
    assert writer.get("sitroom_test_push_seen_timestamp_seconds", item="main") == 1


async def test_failed_start_leaves_no_series_once_removed(write_config, start_daemon):
    config_dir = write_config(sources=[
        {"kind": "tick", "name": "fine", "interval": "50ms"},
        {"kind": "broken_factory", "name": "doomed"},
    ])
    d = await start_daemon(config_dir)
    assert "doomed" not in d.daemon.runners
    _, body = await d.get("/metrics")
    assert sample_value(body, "sitroom_source_up", source="doomed") == 0
    assert sample_value(body, "sitroom_source_errors_total", source="doomed",
                        reason="internal") == 1
    write_config(sources=[{"kind": "tick", "name": "fine", "interval": "50ms"}])
    ok, problems = await d.daemon.reload()
    assert ok, problems
    _, body = await d.get("/metrics")
    assert 'source="doomed"' not in body


async def test_stopped_source_cannot_write_again(write_config, start_daemon):
    config_dir = write_config(sources=[{"kind": "tick", "name": "a", "interval": "50ms"}])
    d = await start_daemon(config_dir)
    runner = d.daemon.runners["a"]
    await wait_for(lambda: ticks(d, "a") >= 1)
    write_config(sources=[])
    ok, _ = await d.daemon.reload()
    assert ok
    # a task that overran its stop deadline would still hold these handles
    runner.ctx.metrics.inc(sitroom_testkinds.TICKS, item="main")
    runner._success(0.1)
    _, body = await d.get("/metrics")
    assert 'source="a"' not in body
