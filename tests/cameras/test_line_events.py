"""Line-crossing events: a crossing is an instant, a pushed alert has a start and an end.

The camera source, fed vtest's frames at 0.5 s of video time, pushes `CameraLineCrossing`
through the core's event path (the same SourceEvents -> EventManager -> sinks chain the
daemon uses): once per burst of crossings of the hand-labelled tripwire
(tests/data/labels/vtest_lines.json), resolved after the line's `resolve_after`, with the
first crosser's snapshot (its box drawn) behind the event id. Bad event config is refused
with a message that names the mistake, by the model and by `sitroom check-config`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from pydantic import ValidationError

import sitroom_cameras as plugin
from sitroom.events.model import Event
from sitroom.testing import SourceHarness
from sitroom_cameras import metrics as m
from sitroom_cameras.cli import frames
from sitroom_cameras.config import CameraConfig, LineConfig
from sitroom_cameras.pipeline import Step
from sitroom_cameras.rules import Rules
from sitroom_cameras.tracker import Crossing

LABELS = Path(__file__).resolve().parents[1] / "data" / "labels" / "vtest_lines.json"
FULL = (768, 576)
RESOLVE = 10.0  # seconds without a matching crossing before the line's event resolves
NIGHT = datetime(2026, 12, 7, 23, 0)


def bursts(times: list[float], quiet: float) -> list[list[float]]:
    """Crossing times grouped into incidents: a new one after `quiet` seconds without any."""
    groups: list[list[float]] = []
    for t in sorted(times):
        if groups and t - groups[-1][-1] < quiet:
            groups[-1].append(t)
        else:
            groups.append([t])
    return groups


class Recorder:
    """An event sink (as the Alertmanager pusher is) noting each change at its video time."""

    def __init__(self) -> None:
        self.t = 0.0
        self.changes: list[tuple[str, Event, float]] = []

    def publish(self, change: str, before: Event | None, after: Event) -> None:
        self.changes.append((change, after, self.t))

    def availability(self, kind: str, source: str, up: bool) -> None:
        pass

    def of(self, change: str, alertname: str) -> list[tuple[Event, float]]:
        return [(e, t) for c, e, t in self.changes if c == change and e.spec.name == alertname]


# -- the rule's window, on its own -----------------------------------------------------------

def gate(**event: Any) -> LineConfig:
    return LineConfig.model_validate({"name": "gate", "points": [[100, 0], [100, 200]],
                                      "directions": ["out", "in"],
                                      "event": {"direction": "in", **event}})


def test_a_burst_of_crossings_is_one_active_window() -> None:
    rules = Rules([], 30.0, 30.0, [gate(resolve_after="10s")])

    def step(t: float, *crossings: Crossing) -> tuple[list[str], bool]:
        fired = rules.evaluate(t, NIGHT, {}, None, 0.0, crossings=crossings)
        return [f"{f.rule}:{f.zone}:{f.track}" for f in fired], rules.active()[
            ("gate", "line_crossing")]

    person_in = Crossing("gate", "person", "in", 7)
    assert step(0.0) == ([], False)
    assert step(1.0, person_in) == (["line_crossing:gate:7"], True)
    # a second person 5 s later: their own event (counted, own snapshot), the same window
    assert step(6.0, Crossing("gate", "person", "in", 8)) == (["line_crossing:gate:8"], True)
    # crossings the event does not watch neither fire nor keep it open
    assert step(12.0, Crossing("gate", "person", "out", 9), Crossing("gate", "car", "in", 3),
                Crossing("other", "person", "in", 4)) == ([], True)
    assert step(15.9) == ([], True)  # 9.9 s after the last matching crossing
    assert step(16.0) == ([], False)  # 10 s: resolved
    assert step(20.0, person_in) == (["line_crossing:gate:7"], True)  # a new incident


def test_a_line_event_outside_its_hours_is_not_raised() -> None:
    rules = Rules([], 30.0, 30.0, [gate(during=[{"start": "22:00", "end": "05:00"}])])
    crossing = Crossing("gate", "person", "in", 1)
    noon = datetime(2026, 12, 7, 12, 0)
    assert rules.evaluate(0.0, noon, {}, None, 0.0, crossings=[crossing]) == []
    assert rules.active()[("gate", "line_crossing")] is False
    assert len(rules.evaluate(1.0, NIGHT, {}, None, 0.0, crossings=[crossing])) == 1


# -- end to end on real footage --------------------------------------------------------------

async def test_vtest_crossings_push_one_event_per_burst_with_the_crossers_snapshot(
        vtest: Path) -> None:
    truth = json.loads(LABELS.read_text())
    line = truth["line"]
    cfg = {"kind": "camera", "name": "vtest", "path": str(vtest),
           "location": "Pasar Johar, east gate", "district": "Semarang Tengah",
           # the labels' "in" (x increasing) is this downward line's left-hand side
           "lines": [{"name": line["name"], "points": line["points"],
                      "directions": ["out", "in"], "classes": ["person"],
                      "event": {"direction": "in", "resolve_after": f"{RESOLVE:g}s"}}]}
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        source: Any = h.source
        recorder = Recorder()
        h.events.sinks.append(recorder)
        steps: list[tuple[float, Step]] = []
        evaluate = source.analysis.evaluate

        def keep(report: Any, now: float, local: datetime) -> Step:
            step = evaluate(report, now, local)
            steps.append((now, step))
            return step

        source.analysis.evaluate = keep
        crossings: list[tuple[float, Crossing]] = []
        last_t = 0.0
        # the daemon's tick, minus the feed: analyse (worker side), then write the report
        # (metrics, rules, events) on the loop; time is the video's, so the run is repeatable
        for _, t, grey in frames(vtest, 0.5):
            recorder.t = last_t = t
            report = source.analysis.analyse(grey, FULL, t)
            source._write_report(report, t)
            crossings += [(t, c) for c in report.crossings]
            await asyncio.sleep(0)  # let the snapshot captures run

        ins = [t for t, c in crossings if c.direction == "in"]
        assert abs(len(ins) - truth["totals"]["in"]) <= 1, crossings
        labelled = bursts([c["t"] for c in truth["crossings"] if c["direction"] == "in"],
                          RESOLVE)
        found = bursts(ins, RESOLVE)
        assert len(labelled) == 2 and len(found) == len(labelled), (found, labelled)

        # one pushed incident per burst, never re-sent while the burst goes on
        started = recorder.of("new", "CameraLineCrossing")
        ended = recorder.of("end", "CameraLineCrossing")
        assert [t for _, t in started] == [group[0] for group in found]
        assert not recorder.of("update", "CameraLineCrossing")
        # each ended once, `resolve_after` after its burst's last crossing (the next frame)
        assert [t for _, t in ended] == [group[-1] + RESOLVE for group in found
                                         if group[-1] + RESOLVE <= last_t]
        assert [e.id for e, _ in ended] == [e.id for e, _ in started][:len(ended)]
        live = [e for e in h.events.events() if e.spec.name == "CameraLineCrossing"]
        assert [e.id for e in live] == [e.id for e, _ in started][len(ended):]

        first = started[0][0]
        assert first.labels == {
            "alertname": "CameraLineCrossing", "severity": "critical", "team": "security",
            "source": "vtest", "camera": "vtest", "zone": line["name"], "rule": "line_crossing",
            "location": "Pasar Johar, east gate", "district": "Semarang Tengah"}
        assert first.annotations["summary"] == f"line {line['name']} crossed on camera vtest"
        assert first.annotations["summary_id"] == \
            f"garis {line['name']} dilintasi pada kamera vtest"
        assert first.annotations["runbook_url"].endswith("#cameralinecrossing")

        # every crossing is a camera event (counted, its own snapshot); the pushed event's
        # picture is the snapshot of the burst's first crosser: its best frame, box drawn
        events = [(t, e) for t, step in steps for e in step.events]
        assert [t for t, _ in events] == ins
        assert all(e.rule == "line_crossing" and e.zone == line["name"] and e.cls == "person"
                   for _, e in events)
        assert h.value(m.EVENTS, camera="vtest", zone=line["name"],
                       rule="line_crossing") == len(ins)
        assert h.value(m.LINE_CROSSINGS, camera="vtest", line=line["name"], direction="in",
                       **{"class": "person"}) == len(ins)
        for pushed, t0 in started:
            opener = next(e for t, e in events if t == t0)
            assert opener.track == next(c.track for t, c in crossings
                                        if t == t0 and c.direction == "in")
            kept = source.event_snapshot(opener.id)
            assert kept is not None
            assert await h.events.snapshots.get(pushed.id) == kept
            image = cv2.imdecode(np.frombuffer(kept, np.uint8), cv2.IMREAD_COLOR)
            red = (image[:, :, 2] > 180) & (image[:, :, 1] < 80) & (image[:, :, 0] < 80)
            assert red.sum() > 100, "no box drawn on the crosser's snapshot"
        assert all(source.event_snapshot(e.id) for _, e in events[-5:])


# -- bad config ------------------------------------------------------------------------------

def camera(**fields: Any) -> CameraConfig:
    analysis = fields.pop("analysis", {})
    return CameraConfig.model_validate({"kind": "camera", "name": "c", "path": "/dev/null",
                                        "analysis": analysis, **fields})


def line(event: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "gerbang", "points": [[400, 300], [400, 700]],
            "directions": ["masuk", "keluar"], "event": event, **fields}


@pytest.mark.parametrize(("fields", "message"), [
    ({"lines": [line({"direction": "north"})]},
     r"event direction 'north' is not one of the line's directions \['masuk', 'keluar'\]"),
    ({"lines": [line({"direction": "masuk", "classes": ["zebra"]})]},
     "line gerbang: class 'zebra' is not among the camera's classes"),
    ({"lines": [line({"direction": "masuk", "classes": ["car"]}, classes=["person"])]},
     r"event classes \['car'\] are not among the line's classes \['person'\]"),
    ({"lines": [line({"direction": "masuk", "classes": []})]}, "at least 1 item"),
    ({"lines": [line({"direction": "masuk", "resolve_after": "0s"})]}, "greater than 0"),
    ({"lines": [line({"direction": "masuk", "during": [{"start": "25:00", "end": "05:00"}]})]},
     "HH:MM"),
    ({"lines": [line({"direction": "masuk"})], "analysis": {"people": False}},
     r"line events \['gerbang'\] need the object detector \(analysis.people: true\)"),
])
def test_bad_line_event_config_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        camera(**fields)


def test_a_counting_line_without_an_event_is_still_allowed_without_the_detector() -> None:
    cfg = camera(lines=[line({"direction": "masuk"}) | {"event": None}],
                 analysis={"people": False})
    assert cfg.lines[0].event is None


def test_check_config_names_the_bad_line_event(tmp_path: Path) -> None:
    conf = tmp_path / "conf.d"
    conf.mkdir()
    (conf / "20-cameras.yaml").write_text(yaml.safe_dump({"sources": [
        {"kind": "camera", "name": "good", "path": "/dev/null",
         "lines": [line({"direction": "masuk"})]},
        {"kind": "camera", "name": "bad", "path": "/dev/null",
         "lines": [line({"direction": "north"})]},
        {"kind": "camera", "name": "zebra", "path": "/dev/null",
         "lines": [line({"direction": "masuk", "classes": ["zebra"]})]},
    ]}))
    result = subprocess.run([sys.executable, "-m", "sitroom.cli", "check-config",
                             "--config-dir", str(conf)], capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "name=bad" in output and "'north' is not one of" in output
    assert "name=zebra" in output and "class 'zebra'" in output
    assert "name=good" not in output
