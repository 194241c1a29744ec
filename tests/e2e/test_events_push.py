"""The event path end to end: a river over Siaga, a person in a closed zone and a person
crossing a watched line on real footage reach their teams through a real Alertmanager in
seconds, each once, with the rendered text and a snapshot link that opens without the
daemon's token.

The daemon (demo flood sensors and simulator, plus two cameras on the shipped vtest.mp4: a
zone closed all day, and a tripwire whose crossings are events) pushes to the stack's
Alertmanager, routed by the shipped example config to a webhook receiver run by the test.
Prometheus scrapes every second with the shipped rules, so the rule path is live too: it
must hold back (one page per incident).
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_room import post
from tests.support import REPO, require_tool

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FOOTAGE = REPO / "plugins" / "sitroom_cameras" / "media" / "vtest.mp4"
CAMERA = {
    "kind": "camera", "name": "e2e-market", "path": str(FOOTAGE), "district": "Semarang Tengah",
    "location": "Pasar Johar, east gate", "owner_type": "city", "analysis_interval": "1s",
    "analysis": {"people": False},
    "zones": [{"name": "closed-market", "presence": "motion", "motion_threshold": 0.001,
               "polygon": [[0, 0], [768, 0], [768, 576], [0, 576]],
               # closed all day, every day: anyone moving here is out of hours
               "restricted": [{"start": "00:00", "end": "23:59"},
                              {"start": "23:59", "end": "00:00"}]}],
}


# the hand-labelled tripwire of tests/data/labels/vtest_lines.json: people cross it going
# left ("out") from 18 s into the clip, so its event fires within the first loop
TRIPWIRE = {
    "kind": "camera", "name": "e2e-gate", "path": str(FOOTAGE), "district": "Semarang Tengah",
    "location": "Pasar Johar, west gate", "owner_type": "city", "analysis_interval": "0.5s",
    "lines": [{"name": "west-walkway", "points": [[215, 125], [215, 310]],
               "directions": ["out", "in"], "classes": ["person"],
               "event": {"direction": "out", "resolve_after": "2m"}}],
}


def config_dir(tmp: Path) -> Path:
    target = tmp / "conf.d"
    target.mkdir()
    for name in ("00-daemon.yaml", "40-flood.yaml", "96-sim-flood.yaml"):
        shutil.copy(REPO / "conf.d" / name, target / name)
    (target / "21-e2e-camera.yaml").write_text(yaml.safe_dump({"sources": [CAMERA, TRIPWIRE]}))
    return target


def alerts_of(note: Any, alertname: str, status: str = "firing", **labels: str) -> list[Any]:
    return [a for a in note.payload.get("alerts", [])
            if a["status"] == status and a["labels"].get("alertname") == alertname
            and all(a["labels"].get(k) == v for k, v in labels.items())]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def fetch_once_more_after_reset(url: str) -> tuple[int, str, bytes]:
    """`fetch`, tried a second time after a connection reset, as a person clicking the link
    would. A reset on this fetch was seen twice in 12 loaded runs while the line event was
    written and has not been explained (the daemon logged nothing, and answered the fetch
    before); the retry is printed so that it stays visible in the test's output."""
    try:
        return fetch(url)
    except ConnectionResetError as exc:
        print(f"\nsnapshot fetch reset ({exc!r}); fetching once more")
        return fetch(url)


def test_river_and_camera_events_reach_their_teams_once_with_text_and_snapshot(
        tmp_path: Path) -> None:
    from sitroom.stack import Stack

    require_tool("prometheus")
    require_tool("prometheus-alertmanager")
    require_tool("mosquitto")
    with Stack(config_dir(tmp_path), interval="1s", fast=True) as stack:
        flood_port = control_ports_flood(stack.effective_config_dir)
        post(f"http://127.0.0.1:{flood_port}/set?sensor=bkb-simongan&level=2.0")
        deadline = time.monotonic() + 60
        while not stack.query('sitroom_flood_alert_level{sensor="bkb-simongan"} < 2'):
            assert time.monotonic() < deadline, (stack.workdir / "sitroom.log").read_text()[-3000:]
            time.sleep(0.5)
        crossed = time.time()
        post(f"http://127.0.0.1:{flood_port}/set?sensor=bkb-simongan&level=4.3")

        flood = stack.receiver.wait_for(lambda n: n.path == "/hooks/bpbd" and bool(alerts_of(
            n, "FloodLevelSiaga", sensor="bkb-simongan")), timeout=60)
        (siaga,) = alerts_of(flood, "FloodLevelSiaga", sensor="bkb-simongan")
        print(f"\nFloodLevelSiaga pushed: {flood.received - crossed:.1f} s from the control call")
        assert siaga["generatorURL"].startswith(stack.daemon_url + "/api/v1/events/")  # pushed
        assert siaga["labels"]["team"] == "bpbd" and siaga["labels"]["severity"] == "critical"
        assert siaga["labels"]["district"] == "Semarang Barat"
        assert siaga["annotations"]["summary"] == \
            "SIAGA at bkb-simongan (Bendung Simongan, Semarang Barat)"
        assert siaga["annotations"]["description"].startswith(
            "Sensor bkb-simongan on Banjir Kanal Barat has reached Siaga (alert level 2: "
            "standby). Water level 4.3")
        assert siaga["annotations"]["description_id"].endswith(
            "Kabari kelurahan, siagakan pompa dan tim evakuasi.")

        camera = stack.receiver.wait_for(lambda n: n.path == "/hooks/security" and bool(
            alerts_of(n, "CameraSuspiciousActivity", camera="e2e-market")), timeout=90)
        (intrusion,) = alerts_of(camera, "CameraSuspiciousActivity", camera="e2e-market")
        assert intrusion["labels"]["zone"] == "closed-market"
        assert intrusion["labels"]["location"] == "Pasar Johar, east gate"
        assert intrusion["annotations"]["summary"] == \
            "activity in closed-market on camera e2e-market out of hours"
        link = intrusion["annotations"]["snapshot_url"]
        assert link.startswith(stack.daemon_url + "/api/v1/events/")

        status, content_type, body = fetch(link)  # no bearer header: the signature suffices
        assert status == 200 and content_type == "image/jpeg" and body[:3] == b"\xff\xd8\xff"
        forged = link[:-4] + ("0000" if not link.endswith("0000") else "1111")
        assert fetch(forged)[0] == 403
        other_event = link.replace("/events/", "/events/0", 1)
        assert fetch(other_event)[0] == 403
        assert fetch(link.split("?")[0])[0] == 403  # neither signature nor token
        expired = link.replace("exp=", "exp=1", 1)  # a changed expiry breaks the signature
        assert fetch(expired)[0] == 403

        # a person crossing the gate's line: one event for the burst, the crosser's picture
        gate = stack.receiver.wait_for(lambda n: n.path == "/hooks/security" and bool(
            alerts_of(n, "CameraLineCrossing", camera="e2e-gate")), timeout=90)
        (crossing,) = alerts_of(gate, "CameraLineCrossing", camera="e2e-gate")
        assert crossing["labels"]["zone"] == "west-walkway"
        assert crossing["labels"]["severity"] == "critical"
        assert crossing["annotations"]["summary"] == "line west-walkway crossed on camera e2e-gate"
        try:
            status, content_type, body = fetch_once_more_after_reset(
                crossing["annotations"]["snapshot_url"])
        except OSError as exc:  # say what the daemon said
            raise AssertionError(f"{exc!r}; daemon log:\n"
                                 + (stack.workdir / "sitroom.log").read_text()[-6000:]) from None
        assert status == 200 and content_type == "image/jpeg" and body[:3] == b"\xff\xd8\xff"

        # the rule path is live (1 s evaluation, FloodLevelSiaga `for: 30s`): had it not held
        # back, its copy would arrive within this wait with Prometheus' generatorURL
        time.sleep(40)
        bpbd = [a for n in stack.receiver.notifications if n.path == "/hooks/bpbd"
                for a in alerts_of(n, "FloodLevelSiaga", sensor="bkb-simongan")]
        security = [a for n in stack.receiver.notifications if n.path == "/hooks/security"
                    for a in alerts_of(n, "CameraSuspiciousActivity", camera="e2e-market")]
        gates = {a["startsAt"] for n in stack.receiver.notifications
                 if n.path == "/hooks/security"
                 for a in alerts_of(n, "CameraLineCrossing", camera="e2e-gate")}
        assert len(bpbd) == 1, bpbd
        assert len(security) == 1, security
        assert len(gates) == 1, gates  # later crossers kept the one incident open
        assert not [a for n in stack.receiver.notifications for a in n.payload["alerts"]
                    if a["labels"].get("alertname") in ("FloodLevelSiaga",
                                                         "CameraSuspiciousActivity",
                                                         "CameraLineCrossing")
                    and not a["generatorURL"].startswith(stack.daemon_url)]
        assert stack.query("sitroom_alerting_push_ready == 1")
        assert stack.query('sitroom_alerting_delivery_latency_seconds_count > 0')
        log = (stack.workdir / "sitroom.log").read_text()
        assert link.rsplit("sig=", 1)[1] not in log  # the capability never reaches the log


def control_ports_flood(config_dir: Path) -> int:
    for path in sorted(config_dir.glob("*.yaml")):
        sims = (yaml.safe_load(path.read_text()) or {}).get("simulators") or {}
        if "flood" in sims:
            return int(sims["flood"]["control_port"])
    raise AssertionError("no flood simulator")
