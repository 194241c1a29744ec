"""deploy/: what can be validated without a Docker engine or a systemd host.

No Docker engine runs here, so the Dockerfile and compose file are checked for consistency
(every path they name exists, ports agree across files); Prometheus and Alertmanager configs
go through promtool/amtool; the systemd unit through `systemd-analyze verify`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import REPO, require_tool

DEPLOY = REPO / "deploy"
pytestmark = pytest.mark.integration


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def prometheus_yml() -> dict:
    return yaml.safe_load((DEPLOY / "prometheus.yml").read_text())


def volumes(service: str) -> dict[str, str]:
    """container path -> host path (relative to deploy/) of a service's bind mounts."""
    out = {}
    for entry in compose()["services"][service].get("volumes", []):
        host, container = entry.split(":")[:2]
        if host.startswith("."):
            out[container] = host
    return out


def test_promtool_accepts_prometheus_yml() -> None:
    promtool = require_tool("promtool")
    result = subprocess.run([promtool, "check", "config", str(DEPLOY / "prometheus.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_accepts_deploy_alertmanager() -> None:
    amtool = require_tool("amtool")
    result = subprocess.run([amtool, "check-config", str(DEPLOY / "alertmanager.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_alertmanager_routes_like_the_example() -> None:
    deployed = yaml.safe_load((DEPLOY / "alertmanager.yml").read_text())
    example = yaml.safe_load((REPO / "alerts" / "alertmanager.example.yml").read_text())
    assert deployed["route"] == example["route"]
    assert deployed["inhibit_rules"] == example["inhibit_rules"]
    assert [r["name"] for r in deployed["receivers"]] == [r["name"] for r in example["receivers"]]


def test_every_bind_mount_exists() -> None:
    for name in compose()["services"]:
        for container, host in volumes(name).items():
            assert (DEPLOY / host).exists(), f"{name}: {host} -> {container} is missing"


def test_prometheus_rule_files_are_the_mounted_alerts() -> None:
    (pattern,) = prometheus_yml()["rule_files"]
    directory, glob = pattern.rsplit("/", 1)
    host = volumes("prometheus")[directory]
    assert (DEPLOY / host).resolve() == REPO / "alerts"
    assert glob == "*.rules.yml" and len(list((REPO / "alerts").glob(glob))) >= 4
    assert volumes("prometheus")["/etc/prometheus/prometheus.yml"] == "./prometheus.yml"


def test_ports_and_names_agree_across_files() -> None:
    services = compose()["services"]
    prom = prometheus_yml()
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    (target,) = jobs["sitroom"]["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host in services and f"127.0.0.1:{port}:{port}" in services[host]["ports"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f"EXPOSE {port}" in dockerfile and f":{port}" in dockerfile
    (am,) = prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    am_host, am_port = am.split(":")
    assert am_host in services and f"127.0.0.1:{am_port}:{am_port}" in services[am_host]["ports"]
    datasource = yaml.safe_load(
        (REPO / "grafana/provisioning/datasources/sitroom.yml").read_text())["datasources"][0]
    ds_host, ds_port = re.match(r"http://([^:/]+):(\d+)", datasource["url"]).groups()
    assert ds_host in services and f"127.0.0.1:{ds_port}:{ds_port}" in services[ds_host]["ports"]
    assert datasource["jsonData"]["timeInterval"] == prom["global"]["scrape_interval"]
    provider = yaml.safe_load(
        (REPO / "grafana/provisioning/dashboards/sitroom.yml").read_text())["providers"][0]
    assert volumes("grafana")[provider["options"]["path"]] == "../grafana/dashboards"


def test_dockerfile_copies_what_exists() -> None:
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (REPO / source).exists(), line


def _image_layout(root: Path) -> tuple[Path, Path]:
    """The files the Dockerfile's COPY lines put in the image, under `root`, and the demo's
    state link into the volume (the RUN line's `ln -s`). Returns (workdir, volume)."""
    text = (DEPLOY / "Dockerfile").read_text()
    workdir = root / re.search(r"^WORKDIR /(\S+)", text, re.M).group(1)
    volume = root / re.search(r"^VOLUME /(\S+)", text, re.M).group(1)
    for line in text.splitlines():
        if line.startswith("COPY "):
            *sources, target = line.split()[1:]
            for source in sources:
                destination = workdir / target if target != "./" else workdir / source
                if (REPO / source).is_dir():
                    shutil.copytree(REPO / source, destination,
                                    ignore=shutil.ignore_patterns("__pycache__", ".state"))
                else:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(REPO / source, destination)
    link, points_to = re.search(r"ln -s (/\S+) (/\S+)", text).group(2, 1)
    volume.mkdir(parents=True)
    assert root / points_to.lstrip("/") == volume
    (root / link.lstrip("/")).symlink_to(volume)
    return workdir, volume


def test_image_demo_has_its_files_and_keeps_state_on_the_volume(tmp_path: Path) -> None:
    """The image's default command runs the demo: every file it reads is in the image, and
    the token, registry and footage it writes land on the volume (a recreated container
    keeps them). Checked on the image's layout rebuilt from the Dockerfile, without Docker."""
    from sitroom.config import read_config_dir

    workdir, volume = _image_layout(tmp_path)
    command = json.loads(re.search(r"^CMD (\[.*\])", (DEPLOY / "Dockerfile").read_text(),
                                   re.M).group(1))
    config_dir = tmp_path / command[command.index("--config-dir") + 1].lstrip("/")
    assert config_dir == workdir / "conf.d"
    result = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "check-config", "--config-dir", str(config_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    state = read_config_dir(config_dir).daemon.state_path(config_dir).resolve()
    assert state.is_relative_to(volume.resolve())
    # validation generated the demo's API token: it was written onto the volume
    assert (volume / "api-token").is_file()


def test_systemd_unit_is_hardened_and_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "sitroom.service").read_text()
    for setting in ("DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict",
                    "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n",
                    "RestrictAddressFamilies=", "SystemCallFilter=@system-service"):
        assert setting in unit, setting
    analyze = require_tool("systemd-analyze")
    # verify needs the ExecStart binary to exist: point it at this checkout's venv.
    local = tmp_path / "sitroom.service"
    local.write_text(unit.replace("/opt/sitroom/venv", str(REPO / ".venv")))
    result = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.service"
    broken.write_text(local.read_text().replace("ProtectSystem=strict", "ProtectSystem=bogus")
                      .replace("Type=exec", "Type=nonsense"))
    result = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True,
                            timeout=60)
    assert "nonsense" in result.stdout + result.stderr
