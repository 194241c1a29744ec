"""The source manager apart from the process: the plugin view, per-source state, and what a
stopped source's context still does (nothing)."""

from __future__ import annotations

import json

from sitroom.api import DaemonAPI
from sitroom.context import SourceContext
from sitroom.metrics.store import MetricStore
from sitroom.source_manager import PUBLIC_SOURCE_FIELDS, PluginView

from .test_supervision import wait_for


async def test_plugins_see_a_narrow_view(write_config, start_daemon):
    d = await start_daemon(write_config(sources=[{"kind": "tick", "name": "a"},
                                                 {"kind": "push", "name": "p"}]))
    view = d.daemon.api
    assert isinstance(view, PluginView)
    members = {name for name in dir(view) if not name.startswith("_")}
    assert members == {"source", "sources", "config_dir", "state_dir"}
    protocol = {name for name in dir(DaemonAPI) if not name.startswith("_")}
    assert members == protocol  # nothing beyond the published Protocol
    assert view.source("a", kind="tick") is d.daemon.runners["a"].source
    assert view.source("a", kind="push") is None
    assert [s.ctx.name for s in view.sources(kind="push")] == ["p"]
    assert view.state_dir == d.daemon.state_dir


async def test_source_state_public_and_full(write_config, start_daemon, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("a-long-enough-token\n")
    d = await start_daemon(write_config(
        daemon={"auth": {"token_file": str(token_file)}},
        sources=[{"kind": "tick", "name": "a", "interval": "50ms"},
                 {"kind": "tick", "name": "bad", "interval": "soon"}],
    ))
    manager = d.daemon.manager
    await wait_for(lambda: manager.state("a")["state"] == "ok")
    assert manager.names() == ["a"] and len(manager) == 1
    assert set(manager.state("a", full=False)) == set(PUBLIC_SOURCE_FIELDS)
    full = manager.state("a")
    assert full["config"]["interval"] == 0.05 and full["defined_in"].endswith("(name=a, kind=tick)")
    assert next(issue.where for issue in manager.invalid()).endswith("(name=bad, kind=tick)")
    status, body = await d.get("/api/v1/sources")
    public = json.loads(body)
    assert set(public["sources"][0]) == set(PUBLIC_SOURCE_FIELDS)
    assert public["invalid"][0]["error"] == "invalid config"
    status, body = await d.get("/api/v1/sources",
                               headers={"Authorization": "Bearer a-long-enough-token"})
    assert json.loads(body)["sources"][0]["config"]["name"] == "a"


async def test_a_detached_context_publishes_and_succeeds_no_more():
    published: list[list[dict[str, object]]] = []
    succeeded: list[bool] = []

    async def publish(parent: str, configs: list[dict[str, object]]) -> None:
        published.append(configs)

    ctx = SourceContext(name="reg", kind="k", metrics=MetricStore().writer("reg", []),
                        publish=publish)
    ctx.on_success(lambda: succeeded.append(True))
    await ctx.publish_sources([{"name": "child"}])
    ctx.mark_success()
    assert published == [[{"name": "child"}]] and succeeded == [True]
    ctx.detach()
    await ctx.publish_sources([{"name": "other"}])
    ctx.mark_success()
    assert published == [[{"name": "child"}]] and succeeded == [True]
