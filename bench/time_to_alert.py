"""Time from a river sensor crossing Siaga to the alert arriving at Alertmanager's receiver.

Runs the demo city with the real Prometheus and Alertmanager (sitroom.stack), pins the
Banjir Kanal Barat sensor above its Siaga threshold through the flood simulator's control
API, and waits for FloodLevelSiaga at the BPBD webhook. Twice in one run:
- shipped: deploy/prometheus.yml's scrape/evaluation intervals (15 s), the shipped rules
  (`for: 30s`) and Alertmanager routing (group_wait 0 s for bpbd);
- baseline: the same with 1 s scrape/evaluation, i.e. what is left when the pipeline's
  polling costs almost nothing (the rule's `for` and notification path remain).
The split uses Prometheus' own timestamps: activeAt (rule went pending) and the alert's
startsAt (fired) from the webhook payload.
"""

from __future__ import annotations

import json
import os
import platform
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sitroom.stack import REPO, Stack

SENSOR = "bkb-simongan"
SIAGA_LEVEL = 4.3  # its thresholds: waspada 3.0, siaga 4.0, awas 5.0


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _control_port(config_dir: Path) -> int:
    for path in sorted(config_dir.glob("*.yaml")):
        sims = (yaml.safe_load(path.read_text()) or {}).get("simulators") or {}
        if "flood" in sims:
            return int(sims["flood"]["control_port"])
    raise RuntimeError("no flood simulator in the demo config")


def _active_at(stack: Stack) -> float | None:
    with urllib.request.urlopen(f"{stack.prometheus_url}/api/v1/alerts", timeout=5) as r:
        alerts = json.loads(r.read())["data"]["alerts"]
    for alert in alerts:
        if alert["labels"].get("alertname") == "FloodLevelSiaga" and \
                alert["labels"].get("sensor") == SENSOR:
            return _ts(alert["activeAt"])
    return None


def measure(interval: str | None) -> dict[str, float]:
    with Stack(REPO / "conf.d", interval=interval, fast=True) as stack:
        port = _control_port(stack.effective_config_dir)
        normal = urllib.request.Request(  # a normal level first, whatever the weather
            f"http://127.0.0.1:{port}/set?sensor={SENSOR}&level=2.0", data=b"", method="POST")
        urllib.request.urlopen(normal, timeout=5).close()
        deadline = time.monotonic() + 60
        while not stack.query(f'sitroom_flood_alert_level{{sensor="{SENSOR}"}} < 2'):
            if time.monotonic() > deadline:
                raise RuntimeError("the sensor never appeared in Prometheus")
            time.sleep(0.5)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/set?sensor={SENSOR}&level={SIAGA_LEVEL}", data=b"",
            method="POST")
        crossed = time.time()
        urllib.request.urlopen(request, timeout=5).close()
        active_at = None
        note = None
        while note is None:
            if active_at is None:
                active_at = _active_at(stack)
            try:
                note = stack.receiver.wait_for(
                    lambda n: n.path == "/hooks/bpbd" and any(
                        a["labels"].get("alertname") == "FloodLevelSiaga"
                        and a["status"] == "firing" for a in n.payload["alerts"]), timeout=1)
            except TimeoutError:
                if time.time() - crossed > 150:
                    raise
        alert: dict[str, Any] = next(a for a in note.payload["alerts"]
                                     if a["labels"].get("alertname") == "FloodLevelSiaga")
        fired = _ts(alert["startsAt"])
        return {"total": note.received - crossed,
                "to_pending": (active_at or fired) - crossed,
                "pending_to_firing": fired - (active_at or fired),
                "firing_to_webhook": note.received - fired}


def main() -> None:
    shipped = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())["global"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}; "
          f"load before: {os.getloadavg()[0]:.2f}")
    rows = []
    for label, interval in ((f"shipped ({shipped['scrape_interval']} scrape/eval)", None),
                            ("baseline (1s scrape/eval)", "1s")):
        result = measure(interval)
        rows.append((label, result))
        print(f"{label}: total {result['total']:.1f} s = crossing->pending "
              f"{result['to_pending']:.1f} s + pending->firing (for) "
              f"{result['pending_to_firing']:.1f} s + firing->webhook "
              f"{result['firing_to_webhook']:.2f} s", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
