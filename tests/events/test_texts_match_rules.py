"""Both paths say the same thing: every pushed event mirrors a shipped rule (name, severity,
team, runbook), and its texts render exactly what promtool expects from that rule."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sitroom.plugins import load_plugins
from sitroom_cameras import events as camera_events
from sitroom_flood import events as flood_events
from sitroom_flood.config import SensorConfig
from sitroom_pumps import events as pump_events
from tests.alerts import rules as r
from tests.support import REPO

SENSOR = SensorConfig(location="Bendung Simongan", district="Semarang Barat",
                      river="Banjir Kanal Barat")
BARE = SensorConfig()
RAIN = SensorConfig(type="rain_gauge", location="Undip", district="Tembalang")


def expected(alertname: str, **labels: str) -> dict[str, str]:
    """The exp_annotations promtool checks for the first alert with these labels."""
    for path in sorted((REPO / "alerts" / "tests").glob("*_test.yml")):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check["alertname"] != alertname:
                    continue
                for alert in check.get("exp_alerts") or []:
                    if all(alert["exp_labels"].get(k) == v for k, v in labels.items()):
                        return {k: str(v) for k, v in alert["exp_annotations"].items()}
    raise AssertionError(f"no promtool expectation for {alertname} {labels}")


def rendered(spec: Any, **fields: Any) -> dict[str, str]:
    summary, summary_id = spec.summary.render(fields)
    description, description_id = spec.description.render(fields)
    return {"summary": summary, "summary_id": summary_id, "description": description,
            "description_id": description_id, "runbook_url": spec.runbook_url}


CASES = [
    ("FloodLevelWaspada", {"sensor": "bkb-simongan", "source": "flood-mqtt"},
     flood_events.FLOOD_LEVELS[1], flood_events.text_fields("bkb-simongan", SENSOR, 3.6)),
    ("FloodLevelSiaga", {"sensor": "garang"},
     flood_events.FLOOD_LEVELS[2], flood_events.text_fields("garang", BARE, None)),
    ("RainfallSiaga", {"sensor": "arr-tembalang"},
     flood_events.RAIN_LEVELS[2], flood_events.text_fields("arr-tembalang", RAIN, 45.0)),
    ("RainfallAwas", {"sensor": "arr-tembalang"},
     flood_events.RAIN_LEVELS[3], flood_events.text_fields("arr-tembalang", RAIN, 100.07)),
    ("RainfallSiaga", {"sensor": "arr-x"},
     flood_events.RAIN_LEVELS[2], flood_events.text_fields("arr-x", BARE, None)),
    ("FloodWaterRisingFast", {"sensor": "bkb-simongan"},
     flood_events.RISING_FAST, {"sensor": "bkb-simongan", "rate": "0.72"}),
    ("PumpFault", {"station": "kali-semarang", "pump": "P1"}, pump_events.PUMP_FAULT,
     {"station": "kali-semarang", "pump": "P1", "code_en": " (code 7)", "code_id": " (kode 7)",
      "named": " (Rumah Pompa Kali Semarang (Tawang))"}),
    ("CameraTamper", {"camera": "cam-a"}, camera_events.TAMPER,
     {"camera": "cam-a", "rule": "tamper_covered"}),
    ("CameraLineCrossing", {"camera": "cam-kota-lama", "zone": "gerbang"},
     camera_events.LINE_CROSSING,
     {"camera": "cam-kota-lama", "zone": "gerbang", "rule": "line_crossing"}),
]


@pytest.mark.parametrize("alertname, labels, spec, fields", CASES,
                         ids=[f"{c[0]}-{next(iter(c[1].values()))}" for c in CASES])
def test_pushed_text_is_the_rules_text(alertname: str, labels: dict[str, str], spec: Any,
                                       fields: dict[str, Any]) -> None:
    assert spec.name == alertname
    assert rendered(spec, **fields) == expected(alertname, **labels)


def test_every_pushed_event_mirrors_a_shipped_rule() -> None:
    shipped = {rule.alert: rule for rule in r.load_rules(r.rule_files()) if rule.alert}
    anchors = r.github_anchors(r.RUNBOOKS.read_text())
    specs = [spec for kind in load_plugins().kinds.values() for spec in kind.all_events]
    assert {s.name for s in specs} >= {
        "FloodLevelSiaga", "RainfallSiaga", "FloodWaterRisingFast", "PumpFault",
        "PumpStationSumpHighPumpsStopped", "PumpStationPowerLost", "CameraDown",
        "CameraTamper", "CameraSuspiciousActivity", "CameraLoitering", "CameraLineCrossing"}
    for spec in specs:
        rule = shipped.get(spec.name)
        assert rule is not None, f"{spec.name}: no shipped rule"
        assert rule.body["labels"]["severity"] == spec.severity, spec.name
        assert rule.body["labels"]["team"] == spec.team, spec.name
        assert rule.body["annotations"]["runbook_url"] == \
            f"{r.RUNBOOK_BASE}#{spec.runbook_anchor}", spec.name
        assert spec.name.lower() in anchors
        # the rule holds back while the push path covers it: one page per incident
        assert "sitroom_alerting_push_ready == 1" in rule.body["expr"], spec.name
