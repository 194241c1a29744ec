"""Where rules.py's decisions leave the cameras plugin: started rules fire their events
(with the frame's picture), rules no longer active resolve them, others stay metrics."""

from __future__ import annotations

from sitroom.events.manager import EventManager, SourceEvents
from sitroom_cameras import events as ce

INFO = {"location": "Pasar Johar", "district": "Semarang Tengah"}


async def test_started_rules_fire_and_inactive_ones_resolve() -> None:
    manager = EventManager()
    events = SourceEvents(manager, "camera", "cam-1", ce.EVENTS)
    shots: list[str] = []

    async def snapshot() -> bytes:
        shots.append("taken")
        return b"\xff\xd8"

    started = [("market", "suspicious_activity"), ("", "tamper_covered"), ("", "lane_busy")]
    active = {("market", "suspicious_activity"): True, ("", "tamper_covered"): True,
              ("", "frozen"): False}
    ce.push(events, "cam-1", INFO, started, active, snapshot)
    by_name = {e.spec.name: e for e in manager.events()}
    assert set(by_name) == {"CameraSuspiciousActivity", "CameraTamper"}  # lane_busy: none
    assert by_name["CameraSuspiciousActivity"].labels == {
        "alertname": "CameraSuspiciousActivity", "severity": "critical", "team": "security",
        "source": "cam-1", "camera": "cam-1", "zone": "market", "rule": "suspicious_activity",
        "location": "Pasar Johar", "district": "Semarang Tengah"}
    assert "zone" not in by_name["CameraTamper"].labels
    assert by_name["CameraTamper"].annotations["summary"] == \
        "camera cam-1 tampered with (tamper_covered)"
    assert await manager.snapshots.get(by_name["CameraTamper"].id) == b"\xff\xd8"

    active[("market", "suspicious_activity")] = False
    ce.push(events, "cam-1", INFO, [], active, snapshot)
    assert {e.spec.name for e in manager.events()} == {"CameraTamper"}
