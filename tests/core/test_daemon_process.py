"""The daemon as a user runs it: a subprocess, real signals, real Prometheus and promtool."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support import (
    DaemonProcess,
    http_get,
    http_post,
    prometheus,
    prometheus_query,
    require_tool,
    sample_value,
    wait_until,
)

from .conftest import FIXTURES

SECRET = "Hunter2-very-secret"
PLUGIN_ENV = {"PYTHONPATH": f"{FIXTURES}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def write(config_dir: Path, doc: dict, name: str = "10-sources.yaml") -> None:
    config_dir.mkdir(exist_ok=True)
    (config_dir / name).write_text(yaml.safe_dump(doc))


def base_config(tmp_path: Path) -> Path:
    config_dir = tmp_path / "conf.d"
    (tmp_path / "token").write_text("test-token-123456\n")
    (tmp_path / "pw").write_text(SECRET + "\n")
    write(config_dir, {"daemon": {"state_dir": str(tmp_path / "state"),
                                  "auth": {"token_file": str(tmp_path / "token")}}},
          "00-daemon.yaml")
    write(config_dir, {"sources": [
        {"kind": "tick", "name": "alpha", "interval": "200ms", "password_file": str(
            tmp_path / "pw")},
        {"kind": "tick", "name": "beta", "interval": "200ms"},
        {"kind": "fail", "name": "gamma", "interval": "200ms"},
        {"kind": "http_probe", "name": "probe",
         "url": f"http://admin:{SECRET}@127.0.0.1:9/?token={SECRET}", "interval": "1s"},
    ]})
    return config_dir


def test_broken_plugin_import_is_contained(tmp_path):
    config_dir = base_config(tmp_path)
    with DaemonProcess(config_dir, env=PLUGIN_ENV) as daemon:
        daemon.wait_ready()
        text = wait_until(
            lambda: (t := daemon.metrics()) and sample_value(
                t, "sitroom_source_up", source="alpha") == 1 and t,
            what="alpha up")
        assert sample_value(text, "sitroom_plugin_loaded", plugin="broken") == 0
        assert sample_value(text, "sitroom_plugin_loaded", plugin="testkinds") == 1
        assert sample_value(text, "sitroom_source_up", source="gamma") == 0
    assert "sitroom_broken_plugin needs a library" in daemon.output()
    result = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "check-config", "--config-dir", str(config_dir)],
        capture_output=True, text=True, env={**os.environ, **PLUGIN_ENV}, timeout=60,
    )
    assert result.returncode == 1 and "plugin broken (import)" in result.stderr


def test_secrets_never_leak(tmp_path):
    config_dir = base_config(tmp_path)
    with DaemonProcess(config_dir, env=PLUGIN_ENV) as daemon:
        daemon.wait_ready()
        wait_until(lambda: daemon.sources()["probe"]["state"] == "failing", what="probe failed")
        wait_until(lambda: "tick_with_password" in daemon.output(), what="secret-bearing log")
        metrics = daemon.metrics()
        status, sources = http_get(f"{daemon.url}/api/v1/sources",
                                   {"Authorization": "Bearer test-token-123456"})
        public = daemon.sources()
        om_status, om = http_get(f"{daemon.url}/metrics",
                                 {"Accept": "application/openmetrics-text; version=1.0.0"})
    logs = daemon.output()
    assert status == 200 and om_status == 200
    for where, text in (("logs", logs), ("metrics", metrics), ("openmetrics", om),
                        ("sources api", sources)):
        assert SECRET not in text, f"secret leaked into {where}"
        assert "test-token-123456" not in text, f"token leaked into {where}"
    assert "127.0.0.1:9" in sources  # the redacted URL is still useful to an operator
    # anonymous callers see health, never addresses, configs or error texts
    assert "config" not in public["probe"] and "last_error" not in public["probe"]
    assert public["probe"]["state"] == "failing"
    assert "127.0.0.1:9" not in json.dumps(public)


def test_signals_reload_and_drain(tmp_path):
    config_dir = base_config(tmp_path)
    with DaemonProcess(config_dir, env=PLUGIN_ENV) as daemon:
        daemon.wait_ready()
        assert set(daemon.sources()) == {"alpha", "beta", "gamma", "probe"}
        write(config_dir, {"sources": [{"kind": "tick", "name": "alpha", "interval": "1s"}]})
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: set(daemon.sources()) == {"alpha"}, what="reload by SIGHUP")
        (config_dir / "20-bad.yaml").write_text("sources: [{kind: tick, name: x, step: many}]\n")
        status, body = http_post(f"{daemon.url}/-/reload",
                                 headers={"Authorization": "Bearer test-token-123456"})
        assert status == 400 and "20-bad.yaml" in body and "step" in body
        assert set(daemon.sources()) == {"alpha"}
        assert sample_value(daemon.metrics(), "sitroom_config_last_reload_successful") == 0
        daemon.signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=15) == 0
    assert "daemon_stopped" in daemon.output()


def test_prometheus_scrapes_every_source_and_promtool_is_silent(tmp_path):
    promtool = require_tool("promtool")
    config_dir = base_config(tmp_path)
    with DaemonProcess(config_dir, env=PLUGIN_ENV) as daemon:
        daemon.wait_ready()
        target = daemon.url.removeprefix("http://")
        with prometheus([target]) as prom:
            results = wait_until(
                lambda: (r := prometheus_query(prom, "sitroom_source_up")) and len(r) == 4 and r,
                timeout=30, what="prometheus has sitroom_source_up for every source")
            assert {r["metric"]["source"] for r in results} == {"alpha", "beta", "gamma",
                                                                "probe"}
            assert prometheus_query(prom, 'up{job="sitroom"} == 1')
        _, body = http_get(f"{daemon.url}/metrics")
        check = subprocess.run([promtool, "check", "metrics"], input=body,
                               capture_output=True, text=True, timeout=30)
        assert check.returncode == 0 and check.stdout + check.stderr == "", (
            check.stdout + check.stderr)
