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


async def test_a_line_crossing_is_one_incident_while_its_line_stays_active() -> None:
    """Each crossing of a burst is pushed as the same incident: no second page, the first
    crosser's picture; the line going inactive (resolve_after passed) resolves it."""
    manager = EventManager()
    events = SourceEvents(manager, "camera", "cam-1", ce.EVENTS)
    taken: list[int] = []

    def crosser(n: int):  # type: ignore[no-untyped-def]
        async def snapshot() -> bytes:
            taken.append(n)
            return b"\xff\xd8" + bytes([n])
        return snapshot

    key = ("gerbang", "line_crossing")
    ce.push(events, "cam-1", INFO, [key], {key: True}, crosser(1))
    (first,) = manager.events()
    assert first.spec is ce.LINE_CROSSING
    assert first.labels["zone"] == "gerbang" and first.labels["rule"] == "line_crossing"
    assert first.annotations["summary"] == "line gerbang crossed on camera cam-1"
    for n in (2, 3):  # two more people in the same burst
        ce.push(events, "cam-1", INFO, [key], {key: True}, crosser(n))
    assert [e.id for e in manager.events()] == [first.id]
    assert await manager.snapshots.get(first.id) == b"\xff\xd8\x01"
    assert taken == [1]  # the later crossers' pictures were not even taken for the push

    ce.push(events, "cam-1", INFO, [], {key: False}, None)
    assert list(manager.events()) == []
    ce.push(events, "cam-1", INFO, [key], {key: True}, crosser(4))
    (second,) = manager.events()
    assert second.id != first.id  # a crossing after it resolved is a new incident
