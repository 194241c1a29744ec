"""Time from a threshold crossing (or an analysed frame) to the agency's webhook, on the
pushed path and on the rule path, in one run.

Both setups run the flood part of the demo city (MQTT sensors and the flood simulator) plus
three cameras on the shipped vtest.mp4 with a zone closed all day, with the real Prometheus
and Alertmanager (sitroom.stack), the shipped rules, deploy/prometheus.yml's 15 s intervals
and the shipped Alertmanager routing:
- pushed: the daemon's `alerting:` section points at the stack's Alertmanager (as the demo
  config ships it); each sample pins one sensor just over one level through the simulator's
  control API (Waspada, then Siaga, then Awas, for every sensor) and waits for that alert at
  the team's webhook; cameras: from the alert's startsAt (the analysed frame that decided
  it) to the webhook;
- rule: the same daemon without push, so Prometheus' rules alert; every water sensor is
  pinned over Siaga at once and each FloodLevelSiaga is timed (rule `for: 30s`).
Each sample is the first alert of its Alertmanager group (one group per incident in the
shipped routing); groups that fired on their own before (simulated weather) are skipped.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sitroom.stack import REPO, Notification, Stack

LEVEL_NAMES = {1: "Waspada", 2: "Siaga", 3: "Awas"}
FOOTAGE = REPO / "plugins" / "sitroom_cameras" / "media" / "vtest.mp4"


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _camera(name: str) -> dict[str, Any]:
    return {"kind": "camera", "name": name, "path": str(FOOTAGE), "owner_type": "city",
            "analysis_interval": "1s", "analysis": {"people": False},
            "zones": [{"name": "closed", "presence": "motion", "motion_threshold": 0.001,
                       "polygon": [[0, 0], [768, 0], [768, 576], [0, 576]],
                       "restricted": [{"start": "00:00", "end": "23:59"},
                                      {"start": "23:59", "end": "00:00"}]}]}


def config_dir(tmp: Path) -> Path:
    target = tmp / "conf.d"
    target.mkdir()
    for name in ("00-daemon.yaml", "40-flood.yaml", "96-sim-flood.yaml"):
        shutil.copy(REPO / "conf.d" / name, target / name)
    cameras = [_camera(f"bench-cam-{n}") for n in (1, 2, 3)]
    (target / "21-bench-cameras.yaml").write_text(yaml.safe_dump({"sources": cameras}))
    return target


def sensors(config: Path) -> dict[str, dict[str, Any]]:
    for path in sorted(config.glob("*.yaml")):
        for source in (yaml.safe_load(path.read_text()) or {}).get("sources") or []:
            if source.get("kind") == "mqtt_sensors":
                return {k: v for k, v in source["sensors"].items() if v.get("thresholds")}
    raise RuntimeError("no mqtt_sensors source")


def control(port: int, sensor: str, kind: str, value: float) -> None:
    key = "rain_rate" if kind == "rain_gauge" else "level"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/set?sensor={sensor}&{key}={value}", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def control_port(config: Path) -> int:
    for path in sorted(config.glob("*.yaml")):
        sims = (yaml.safe_load(path.read_text()) or {}).get("simulators") or {}
        if "flood" in sims:
            return int(sims["flood"]["control_port"])
    raise RuntimeError("no flood simulator")


def alertname(kind: str, level: int) -> str:
    return ("Rainfall" if kind == "rain_gauge" else "FloodLevel") + LEVEL_NAMES[level]


def firing(note: Notification, name: str, **labels: str) -> list[dict[str, Any]]:
    return [a for a in note.payload.get("alerts", []) if a["status"] == "firing"
            and a["labels"].get("alertname") == name
            and all(a["labels"].get(k) == v for k, v in labels.items())]


def already(stack: Stack, name: str, sensor: str) -> bool:
    return any(firing(n, name, sensor=sensor) or any(
        a["labels"].get("alertname") == name and a["labels"].get("sensor") == sensor
        for a in n.payload.get("alerts", [])) for n in stack.receiver.notifications)


def pin_normal(stack: Stack, port: int, table: dict[str, dict[str, Any]]) -> None:
    for sensor, spec in table.items():
        low = spec["thresholds"]["waspada"] * 0.5
        control(port, sensor, spec.get("type", "water_level"), round(low, 3))


def pushed(table_out: list[str]) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-") as tmp, \
            Stack(config_dir(Path(tmp)), fast=True, push=True) as stack:
        port = control_port(stack.effective_config_dir)
        table = sensors(stack.effective_config_dir)
        pin_normal(stack, port, table)
        time.sleep(3)
        flood: list[float] = []
        skipped = 0
        for level in (1, 2, 3):
            for sensor, spec in table.items():
                kind = spec.get("type", "water_level")
                name = alertname(kind, level)
                if already(stack, name, sensor):
                    skipped += 1
                    continue
                threshold = spec["thresholds"][LEVEL_NAMES[level].lower()]
                crossed = time.time()
                control(port, sensor, kind, round(threshold * 1.02 + 0.01, 3))
                try:
                    note = stack.receiver.wait_for(
                        lambda n, s=sensor, a=name: bool(firing(n, a, sensor=s)), timeout=30)
                except TimeoutError:
                    table_out.append(f"  miss: {name} {sensor} (no webhook in 30 s)")
                    continue
                flood.append(note.received - crossed)
                if note.received - crossed > 0.5:
                    table_out.append(f"  slow sample: {name} {sensor} "
                                     f"{note.received - crossed:.2f} s")
        cameras: list[float] = []
        deadline = time.monotonic() + 90
        while len(cameras) < 3 and time.monotonic() < deadline:
            cameras = []
            for n in stack.receiver.notifications:
                if n.path == "/hooks/security":
                    for a in firing(n, "CameraSuspiciousActivity"):
                        cameras.append(n.received - _ts(a["startsAt"]))
            time.sleep(1)
        with urllib.request.urlopen(f"{stack.daemon_url}/metrics", timeout=10) as response:
            text = response.read().decode()
        total = {s: sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                        if line.startswith(f"sitroom_alerting_delivery_latency_seconds_{s}"))
                 for s in ("sum", "count")}
        if skipped:
            table_out.append(f"  skipped {skipped} groups that the simulated weather fired")
        mean = total["sum"] / total["count"] if total["count"] else float("nan")
        return {"flood": flood, "cameras": cameras[:3], "accepted_mean": [mean]}


def rules() -> list[float]:
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-") as tmp, \
            Stack(config_dir(Path(tmp)), fast=True, push=False) as stack:
        port = control_port(stack.effective_config_dir)
        table = {k: v for k, v in sensors(stack.effective_config_dir).items()
                 if v.get("type", "water_level") != "rain_gauge"}
        pin_normal(stack, port, table)
        deadline = time.monotonic() + 60
        while len(stack.query("sitroom_flood_alert_level == 0")) < len(table):
            if time.monotonic() > deadline:
                raise RuntimeError("sensors never reached Prometheus at a normal level")
            time.sleep(0.5)
        chosen = [s for s in table if not already(stack, "FloodLevelSiaga", s)]
        crossed = {}
        for sensor in chosen:
            crossed[sensor] = time.time()
            control(port, sensor, "water_level",
                    round(table[sensor]["thresholds"]["siaga"] * 1.02 + 0.01, 3))
        results = []
        for sensor in chosen:
            note = stack.receiver.wait_for(
                lambda n, s=sensor: n.path == "/hooks/bpbd"
                and bool(firing(n, "FloodLevelSiaga", sensor=s)), timeout=150)
            results.append(note.received - crossed[sensor])
        return results


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return (f"n={len(values)} median {statistics.median(values):.2f} s, p95 {p95:.2f} s, "
            f"max {max(values):.2f} s")


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}; "
          f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    notes: list[str] = []
    push = pushed(notes)
    print(f"pushed path, flood crossing -> webhook: {summary(push['flood'])}", flush=True)
    print(f"pushed path, camera frame -> webhook: {summary(push['cameras'])}", flush=True)
    print(f"pushed path, event -> Alertmanager accepted (mean of the daemon's histogram): "
          f"{push['accepted_mean'][0] * 1000:.1f} ms", flush=True)
    for line in notes:
        print(line)
    rule = rules()
    print(f"rule path (shipped 15 s scrape/eval, for: 30s), FloodLevelSiaga: {summary(rule)}",
          flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
