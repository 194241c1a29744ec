"""docs/metrics.md is the generated metric reference; it must match what plugins declare."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def generated() -> str:
    # a clean process: the core tests' fixture plugins must not appear in the reference
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-m", "sitroom.cli", "metrics"], env=env,
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def test_reference_is_current():
    assert REFERENCE.read_text() == generated(), (
        "docs/metrics.md is stale: run `sitroom metrics > docs/metrics.md`")


def test_every_builtin_kind_is_documented():
    text = REFERENCE.read_text()
    for kind in ("camera", "camera_registry", "modbus_pump_station", "mqtt_sensors",
                 "http_sensors", "rss", "mastodon", "social_webhook", "projects", "http_json",
                 "http_probe", "cap_feed", "earthquake_feed"):
        assert f"## Kind `{kind}`" in text
