"""The pieces `make stack`, the e2e test and the time-to-alert bench share (no services)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from sitroom.stack import (
    Receiver,
    alertmanager_config,
    demo_config_copy,
    prometheus_config,
)
from tests.support import REPO, alertmanager, require_tool


def _sim_ports(config_dir: Path) -> set[int]:
    ports: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if (key == "port" or str(key).endswith("_port")) and isinstance(value, int):
                    ports.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in config_dir.glob("*.yaml"):
        walk((yaml.safe_load(path.read_text()) or {}).get("simulators") or {})
    return ports


def test_demo_copy_moves_every_simulator_port_and_stays_valid(tmp_path: Path) -> None:
    from sitroom.plugins import load_plugins
    from sitroom.validation import load_config

    copy = tmp_path / "conf.d"
    mapping = demo_config_copy(REPO / "conf.d", copy, fast=True,
                               overrides={"http_probe": {"expect_status": [200, 503]}})
    assert mapping and all(old != new for old, new in mapping.items())
    assert _sim_ports(copy) == set(mapping.values())
    text = "\n".join(p.read_text() for p in copy.glob("*.yaml"))
    for old in mapping:
        assert f"127.0.0.1:{old}" not in text and f"port: {old}\n" not in text
    sources = [s for p in copy.glob("*.yaml")
               for s in (yaml.safe_load(p.read_text()) or {}).get("sources") or []]
    assert all(s["interval"] == "2s" for s in sources if "interval" in s)
    assert all(s["expect_status"] == [200, 503] for s in sources if s["kind"] == "http_probe")
    config = load_config(copy, load_plugins())
    assert config.issues == []


def test_alertmanager_config_keeps_routing_and_points_hooks_at_the_receiver(tmp_path) -> None:
    config = alertmanager_config("http://127.0.0.1:4321")
    example = yaml.safe_load((REPO / "alerts" / "alertmanager.example.yml").read_text())
    assert config["route"] == example["route"]
    urls = [h["url"] for r in config["receivers"] for h in r["webhook_configs"]]
    assert urls and all(u.startswith("http://127.0.0.1:4321/hooks/") for u in urls)
    amtool = require_tool("amtool")
    (tmp_path / "am.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run([amtool, "check-config", str(tmp_path / "am.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_is_the_shipped_one_pointed_at_loopback(tmp_path) -> None:
    config = prometheus_config("127.0.0.1:1111", "127.0.0.1:2222", interval="1s")
    assert config["global"]["evaluation_interval"] == "1s"
    assert config["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:1111"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"] == [
        {"targets": ["127.0.0.1:2222"]}]
    assert sorted(config["rule_files"]) == sorted(
        str(p) for p in (REPO / "alerts").glob("*.rules.yml"))
    promtool = require_tool("promtool")
    (tmp_path / "p.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run([promtool, "check", "config", str(tmp_path / "p.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_receiver_records_posts_and_refuses_garbage() -> None:
    receiver = Receiver()
    try:
        body = json.dumps({"alerts": [{"status": "firing", "labels": {"alertname": "X"}}]})
        request = urllib.request.Request(f"{receiver.url}/hooks/bpbd", data=body.encode(),
                                         method="POST")
        urllib.request.urlopen(request, timeout=5).close()
        note = receiver.wait_for(lambda n: n.path == "/hooks/bpbd", timeout=5)
        assert note.payload["alerts"][0]["labels"]["alertname"] == "X"
        bad = urllib.request.Request(f"{receiver.url}/hooks/x", data=b"{nope", method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=5)
        assert err.value.code == 400
        with pytest.raises(TimeoutError):
            receiver.wait_for(lambda n: n.path == "/hooks/x", timeout=0.2)
    finally:
        receiver.close()


@pytest.mark.integration
def test_support_alertmanager_delivers_a_posted_alert() -> None:
    receiver = Receiver()
    try:
        with alertmanager(f"{receiver.url}/hook") as url:
            alert = [{"labels": {"alertname": "TestAlert", "team": "sre"},
                      "annotations": {"summary": "s"}}]
            request = urllib.request.Request(
                f"{url}/api/v2/alerts", data=json.dumps(alert).encode(), method="POST",
                headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=5).close()
            note = receiver.wait_for(lambda n: n.path == "/hook", timeout=20)
            assert note.payload["alerts"][0]["labels"]["alertname"] == "TestAlert"
    finally:
        receiver.close()


def test_stack_cli_help() -> None:
    result = subprocess.run([sys.executable, "-m", "sitroom.stack", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--interval" in result.stdout
