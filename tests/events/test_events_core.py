"""The event path's core without services: specs, incidents, holds, links, config."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from sitroom.api import EventSpec, Text
from sitroom.config import AlertingConfig
from sitroom.events.links import LinkSigner, load_or_create_key
from sitroom.events.manager import EventManager, SourceEvents

SPEC = EventSpec("ThingBroke", "critical", "dpu",
                 summary=Text("{thing} broke{where}", "{thing} rusak{where}"),
                 description=Text("Level {level} m.", "Tinggi {level} m."),
                 labels=("thing",), info_labels=("district",))
HELD = EventSpec("ThingSlow", "warning", "dpu", summary=Text("slow", "lambat"),
                 description=Text("d", "d"), labels=("thing",), hold=0.2)


class Recorder:
    def __init__(self) -> None:
        self.changes: list[tuple[str, str | None, str, bool]] = []
        self.available: list[tuple[str, bool]] = []

    def publish(self, change, before, after) -> None:  # type: ignore[no-untyped-def]
        self.changes.append((change, before.id if before else None, after.id, after.active))

    def availability(self, kind: str, source: str, up: bool) -> None:
        self.available.append((source, up))


def handle(manager: EventManager) -> SourceEvents:
    return SourceEvents(manager, "pump", "rp-1", (SPEC, HELD))


def test_spec_refuses_bad_names_labels_and_holds() -> None:
    text = Text("a", "b")
    with pytest.raises(ValueError, match="CamelCase"):
        EventSpec("lower", "critical", "dpu", text, text)
    with pytest.raises(ValueError, match="severity"):
        EventSpec("Xyz", "loud", "dpu", text, text)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reserved"):
        EventSpec("Xyz", "critical", "dpu", text, text, labels=("source",))
    with pytest.raises(ValueError, match="duplicate"):
        EventSpec("Xyz", "critical", "dpu", text, text, labels=("a",), info_labels=("a",))
    with pytest.raises(ValueError, match="hold"):
        EventSpec("Xyz", "critical", "dpu", text, text, hold=-1)


async def test_fire_update_resolve_is_one_incident_with_rendered_texts() -> None:
    manager, sink = EventManager(), Recorder()
    manager.sinks.append(sink)
    events = handle(manager)
    events.fire(SPEC, thing="P1", district="Genuk", where=" (Genuk)", level="2.10")
    events.fire(SPEC, thing="P1", district="Genuk", where=" (Genuk)", level="2.10")  # same
    events.fire(SPEC, thing="P1", district="Genuk", where=" (Genuk)", level="2.40")
    (event,) = manager.events()
    assert event.labels == {"alertname": "ThingBroke", "severity": "critical", "team": "dpu",
                            "source": "rp-1", "thing": "P1", "district": "Genuk"}
    assert event.annotations["summary"] == "P1 broke (Genuk)"
    assert event.annotations["summary_id"] == "P1 rusak (Genuk)"
    assert event.annotations["description"] == "Level 2.40 m."
    assert event.annotations["runbook_url"] == "docs/runbooks.md#thingbroke"
    events.resolve(SPEC, thing="P1")
    events.resolve(SPEC, thing="P1")  # twice: nothing more
    assert [c[0] for c in sink.changes] == ["new", "update", "end"]
    assert len({c[2] for c in sink.changes}) == 1 and sink.changes[-1][3] is False
    assert list(manager.events()) == []


async def test_hold_is_a_for_clause_and_a_clear_during_it_drops_the_event() -> None:
    manager = EventManager()
    events = handle(manager)
    events.fire(HELD, thing="P1")
    assert not events.is_active(HELD, thing="P1")
    events.resolve(HELD, thing="P1")  # cleared while held: never an event
    await asyncio.sleep(0.3)
    assert not events.is_active(HELD, thing="P1")
    events.fire(HELD, thing="P2")
    await asyncio.sleep(0.3)
    assert events.is_active(HELD, thing="P2")
    (event,) = manager.events()
    assert event.starts_at <= manager.clock() - 0.2  # the incident began at the first raise


def test_undeclared_specs_missing_labels_and_a_closed_handle() -> None:
    manager = EventManager()
    events = handle(manager)
    other = EventSpec("Other", "info", "sre", Text("a", "b"), Text("a", "b"))
    with pytest.raises(KeyError, match="not declared"):
        events.fire(other)
    with pytest.raises(ValueError, match="missing labels"):
        events.fire(SPEC, district="x")
    events.close()
    events.fire(SPEC, thing="P1")  # a stopped source's late call is ignored
    assert list(manager.events()) == []


async def test_health_raises_the_kinds_down_event_and_reports_availability() -> None:
    down = EventSpec("ThingDown", "warning", "dpu", Text("{source} down", "{source} mati"),
                     Text("d", "d"))
    manager, sink = EventManager(), Recorder()
    manager.sinks.append(sink)
    events = SourceEvents(manager, "pump", "rp-1", (down,), down)
    events.health(False)
    (event,) = manager.events()
    assert event.annotations["summary"] == "rp-1 down" and event.labels["source"] == "rp-1"
    events.health(True)
    assert list(manager.events()) == []
    assert sink.available == [("rp-1", False), ("rp-1", True)]


def test_a_sink_that_raises_never_reaches_the_source() -> None:
    class Broken(Recorder):
        def publish(self, change, before, after) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("bug")

    manager, good = EventManager(), Recorder()
    manager.sinks += [Broken(), good]
    handle(manager).fire(SPEC, thing="P1")
    assert good.changes and good.changes[0][0] == "new"


def test_signed_links_open_only_their_event_until_they_expire(tmp_path) -> None:
    key = load_or_create_key(tmp_path)
    assert (tmp_path / "event-links.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(tmp_path) == key  # stable across restarts
    signer = LinkSigner(key, "http://127.0.0.1:9750/", ttl=60)
    url = signer.snapshot_url("abc", now=1000.0)
    assert url.startswith("http://127.0.0.1:9750/api/v1/events/abc/snapshot.jpg?exp=1060&sig=")
    sig = url.rsplit("sig=", 1)[1]
    assert signer.verify("abc", "1060", sig, now=1059)
    assert not signer.verify("abc", "1060", sig, now=1061)          # expired
    assert not signer.verify("abd", "1060", sig, now=1000)          # another event
    assert not signer.verify("abc", "9999", sig, now=1000)          # expiry extended
    assert not signer.verify("abc", "1060", "0" * 64, now=1000)     # forged
    assert not signer.verify("abc", "x", sig, now=1000)
    other = LinkSigner(load_or_create_key(tmp_path / "other"), "http://h", ttl=60)
    assert not other.verify("abc", "1060", sig, now=1000)           # another daemon's key


@pytest.mark.parametrize("bad, message", [
    ({"alertmanagers": ["ftp://am:9093"]}, "http"),
    ({"alertmanagers": ["http://user:pw@am:9093"]}, "credentials"),
    ({"alertmanagers": ["http://am:9093", "http://am:9093/"]}, "twice"),
    ({"resend_interval": "0.5s"}, "greater than or equal"),
    ({"timeout": "2m"}, "less than or equal"),
    ({"queue_capacity": 1}, "greater than or equal"),
    ({"external_url": "http://x/?a=b"}, "query"),
    ({"snapshot_link_ttl": "40d"}, "less than or equal"),
    ({"mqtt": {"host": "h", "topic_prefix": "a/#"}}, "pattern"),
    ({"typo": 1}, "Extra inputs"),
])
def test_alerting_config_is_bounded(bad, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=message):
        AlertingConfig.model_validate(bad)


def test_alerting_config_defaults_and_durations() -> None:
    config = AlertingConfig.model_validate({"alertmanagers": ["http://127.0.0.1:9093/"],
                                            "resend_interval": "30s"})
    assert config.alertmanagers == ["http://127.0.0.1:9093"]
    assert config.resend_interval == 30.0 and config.timeout == 5.0


def test_mqtt_events_without_aiomqtt_are_refused_with_the_fix(tmp_path) -> None:
    """The core runs without the events-mqtt extra; asking for MQTT events then says how to
    install it (check-config fails), instead of failing at the first event."""
    import subprocess
    import sys

    import yaml

    from tests.core.test_extras import env_blocking
    from tests.support import REPO

    config = tmp_path / "conf.d"
    config.mkdir()
    (config / "00-daemon.yaml").write_text(yaml.safe_dump(
        {"daemon": {"alerting": {"mqtt": {"host": "127.0.0.1"}}}}))
    result = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "check-config", "--config-dir", str(config)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, **env_blocking("aiomqtt")})
    assert result.returncode != 0
    assert "pip install 'sitroom[events-mqtt]'" in result.stdout + result.stderr
