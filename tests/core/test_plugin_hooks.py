"""Hooks go through pluggy (fewer arguments, specname, tryfirst) and one plugin's failure in
any hook is recorded per plugin and stage while every other plugin keeps working."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import aiohttp
import pytest

import sitroom_hookstyles as hs
from sitroom.cli import build_parser, cmd_check_config, cmd_plugins
from sitroom.daemon import Daemon
from sitroom.plugins import PluginSet, load_plugins
from sitroom.testing import kinds_of
from tests.support import sample_value


def load(*plugins: object) -> PluginSet:
    return load_plugins(
        extra=[(type(p).__name__, p) for p in plugins], use_entry_points=False
    )


def failures(plugins: PluginSet) -> set[tuple[str, str]]:
    return {(f.plugin, f.stage) for f in plugins.failures}


@pytest.fixture(autouse=True)
def clear_calls() -> None:
    hs.Calls.log.clear()


def test_fewer_arguments_and_specname_are_called() -> None:
    plugins = load(hs.FewerArguments(), hs.SpecName())
    assert plugins.failures == []
    assert {"fewer", "named"} <= set(plugins.kinds)
    assert plugins.kind_plugin["named"] == "SpecName"
    paths = sorted(route.path for route in plugins.routes(daemon=object()))
    assert paths == ["/api/v1/fewer", "/api/v1/named"]


def test_tryfirst_plugin_wins_a_contested_kind_whatever_the_registration_order() -> None:
    for order in ((hs.Ordinary(), hs.First()), (hs.First(), hs.Ordinary())):
        plugins = load(*order)
        assert plugins.kind_plugin["contested"] == "First"
        assert plugins.kind_plugin["ordinary"] == "Ordinary"
        assert failures(plugins) == {("Ordinary", "source_kinds")}  # the loser is told


def test_kinds_hook_failure_unregisters_the_plugin() -> None:
    plugins = load(hs.RaisesInKinds(), hs.ReturnsJunkKinds(), hs.Ordinary())
    assert failures(plugins) == {
        ("RaisesInKinds", "source_kinds"),
        ("ReturnsJunkKinds", "source_kinds"),
    }
    assert "kinds bug" in plugins.failures[0].error
    assert set(plugins.loaded) == {"Ordinary"}
    assert not plugins.manager.has_plugin("RaisesInKinds")
    assert plugins.routes(daemon=object()) == []  # its routes hook never runs
    assert "raises_in_kinds:routes" not in hs.Calls.log
    assert {"contested", "ordinary"} == set(plugins.kinds)


def test_simulators_and_routes_failures_are_contained() -> None:
    plugins = load(
        hs.RaisesInSimulators(), hs.Simulates(), hs.RaisesInRoutes(), hs.FewerArguments()
    )
    assert failures(plugins) == {("RaisesInSimulators", "simulators")}
    assert "sim_plugin_kind" in plugins.kinds  # a broken simulator hook keeps its kinds
    assert set(plugins.simulators) == {"quiet"}
    routes = plugins.routes(daemon=object())
    assert [route.path for route in routes] == ["/api/v1/fewer"]
    assert ("RaisesInRoutes", "routes") in failures(plugins)


def test_harness_kinds_of_goes_through_pluggy() -> None:
    assert set(kinds_of(hs.SpecName())) == {"named"}
    with pytest.raises(ValueError, match="kinds bug"):
        kinds_of(hs.RaisesInKinds())


def test_cli_hook_failure_spares_the_rest_of_the_cli(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    plugins = load(hs.RaisesInCli(), hs.SpecName(), hs.RaisesInKinds())
    parser = build_parser(plugins)
    assert ("RaisesInCli", "cli") in failures(plugins)
    args = parser.parse_args(["named"])
    assert args.func(args) == 7  # another plugin's subcommand still works
    with pytest.raises(SystemExit):  # the unregistered plugin added no subcommand
        parser.parse_args(["unregistered"])
    config_dir = tmp_path / "conf.d"
    config_dir.mkdir()
    check = argparse.Namespace(config_dir=str(config_dir), plugins=plugins)
    assert cmd_check_config(check) == 1
    err = capsys.readouterr().err
    assert "plugin RaisesInCli (cli): RuntimeError: cli bug" in err
    assert "plugin RaisesInKinds (source_kinds)" in err
    assert cmd_plugins(argparse.Namespace(plugins=plugins)) == 1
    report = json.loads(capsys.readouterr().out)
    assert {"plugin": "RaisesInCli", "stage": "cli", "error": "RuntimeError: cli bug",
            "fix": ""} in report["failures"]  # no extra explains a bug: no pip command


async def test_daemon_runs_hooks_in_pluggy_order_and_counts_failures(tmp_path: Path) -> None:
    config_dir = tmp_path / "conf.d"
    config_dir.mkdir()
    (config_dir / "s.yaml").write_text("sources:\n  - {kind: fewer, name: f}\n")
    plugins = load(
        hs.Ordinary(), hs.RaisesInStartup(), hs.RaisesInKinds(), hs.FewerArguments(), hs.First()
    )
    daemon = Daemon(config_dir, listen="127.0.0.1:0", plugins=plugins)
    await daemon.start()
    try:
        assert daemon.ready and "f" in daemon.runners
        started = [call for call in hs.Calls.log if call.endswith(":startup")]
        # tryfirst first, then newest registered first (pluggy's order); never the plugin
        # whose registration failed
        assert started == ["first:startup", "fewer:startup", "ordinary:startup"]
        host, port = daemon.bound_addresses[0]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{host}:{port}/api/v1/fewer") as response:
                assert response.status == 200
            async with session.get(f"http://{host}:{port}/api/v1/unregistered") as response:
                assert response.status == 404
            async with session.get(f"http://{host}:{port}/metrics") as response:
                body = await response.text()
        labels = {"plugin": "RaisesInStartup", "stage": "startup"}
        assert sample_value(body, "sitroom_plugin_failures_total", **labels) == 1
        labels = {"plugin": "RaisesInKinds", "stage": "source_kinds"}
        assert sample_value(body, "sitroom_plugin_failures_total", **labels) == 1
        assert sample_value(body, "sitroom_plugin_loaded", plugin="RaisesInKinds") == 0
        assert sample_value(body, "sitroom_plugin_loaded", plugin="RaisesInStartup") == 1
    finally:
        await daemon.stop()
    assert ("RaisesInStartup", "shutdown") in failures(plugins)
