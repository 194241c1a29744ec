"""docs/metrics.md is the generated metric reference; it must match what plugins declare."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def generated() -> str:
    # --builtin: plugins installed from other distributions (an external plugin in the dev
    # venv, the core tests' fixture plugins) do not belong in the reference
    result = subprocess.run([sys.executable, "-m", "sitroom.cli", "metrics", "--builtin"],
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def test_reference_is_current():
    assert REFERENCE.read_text() == generated(), (
        "docs/metrics.md is stale: run `sitroom metrics --builtin > docs/metrics.md`")


def test_every_builtin_kind_is_documented():
    text = REFERENCE.read_text()
    for kind in ("camera", "camera_registry", "modbus_pump_station", "mqtt_sensors",
                 "http_sensors", "rss", "mastodon", "social_webhook", "projects", "http_json",
                 "http_probe", "cap_feed", "earthquake_feed"):
        assert f"## Kind `{kind}`" in text
