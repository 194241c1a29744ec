"""End to end: `sitroom run` with RTSP, MJPEG and file cameras (slow: ~30 s).

Kills the stream servers under the running daemon to see the cameras go down, restarts them
to see the daemon reconnect, checks the snapshot API's auth, the exposition with promtool and
that no credential reaches the metrics, the sources API or the logs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cameras.conftest import RtspServer
from tests.support import (
    DaemonProcess,
    ManagedProcess,
    free_port,
    http_get,
    require_tool,
    sample_value,
    wait_for_port,
    wait_until,
)

pytestmark = [pytest.mark.integration]
PASSWORD = "rahasia-kamera-77"


def fetch(url: str, token: str | None = None) -> tuple[int, str, bytes]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"}
                                     if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", exc.read()


def start_simulator(clip: Path, port: int, tmp: Path) -> ManagedProcess:
    sim_config = tmp / "sim.yaml"
    sim_config.write_text(yaml.safe_dump({"port": port, "footage": str(clip), "fps": 6}))
    proc = ManagedProcess([sys.executable, "-m", "sitroom.cli", "simulate", "cameras",
                           "--config", str(sim_config)])
    wait_for_port(port)
    return proc


def test_daemon_cameras_down_and_back(street_clip: Path, vtest: Path, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    rtsp = RtspServer(street_clip)
    rtsp.start()
    sim_port = free_port()
    sim = start_simulator(street_clip, sim_port, tmp_path)
    conf = tmp_path / "conf.d"
    conf.mkdir()
    (conf / "00-daemon.yaml").write_text(yaml.safe_dump({"daemon": {
        "state_dir": str(tmp_path / "state"),
        "auth": {"token_file": str(tmp_path / "token"), "generate_if_missing": True},
        "limits": {"max_backoff": "2s", "blocking_workers": 2}}}))
    common = {"kind": "camera", "analysis_interval": 0.7, "stall_timeout": 2,
              "analysis": {"people": False}}
    (conf / "20-cameras.yaml").write_text(yaml.safe_dump({"sources": [
        {**common, "name": "cam-rtsp", "url": rtsp.url, "username": "operator",
         "password": PASSWORD, "district": "Semarang Tengah", "latitude": -6.99,
         "longitude": 110.42, "owner_type": "city", "location": "Simpang Lima"},
        {**common, "name": "cam-mjpeg", "url": f"http://127.0.0.1:{sim_port}/mjpeg"},
        {**common, "name": "cam-file", "path": str(vtest), "analysis": {"people": True},
         "zones": [{"name": "walkway", "polygon": [[0, 150], [768, 150], [768, 330], [0, 330]],
                    "restricted": [{"start": "00:00", "end": "23:59"}]}],
         "lines": [{"name": "west", "points": [[215, 125], [215, 310]],
                    "directions": ["out", "in"], "classes": ["person"],
                    "event": {"direction": "out"}}]},
    ]}))
    names = ("cam-rtsp", "cam-mjpeg", "cam-file")

    def up(name: str) -> float | None:
        return sample_value(daemon.metrics(), "sitroom_camera_up", camera=name)

    with DaemonProcess(conf) as daemon:
        try:
            daemon.wait_ready()
            wait_until(lambda: all(up(n) == 1 for n in names), timeout=30, what="cameras up")
            token = (tmp_path / "token").read_text().strip()

            # the exposition is clean, and no credential is in it
            text = daemon.metrics()
            check = subprocess.run([promtool, "check", "metrics"], input=text,
                                   capture_output=True, text=True)
            assert check.stdout + check.stderr == "", check.stdout + check.stderr
            assert PASSWORD not in text and "operator" not in text
            assert sample_value(text, "sitroom_camera_info", camera="cam-rtsp",
                                district="Semarang Tengah", latitude="-6.990000") == 1
            sources = json.dumps(daemon.sources())
            assert PASSWORD not in sources and "cam-rtsp" in sources

            # the snapshot API needs the token and serves JPEG from memory
            base = f"{daemon.url}/api/v1/cameras"
            assert fetch(f"{base}/cam-rtsp/snapshot.jpg")[0] == 401
            status, ctype, body = fetch(f"{base}/cam-file/snapshot.jpg?zones=1", token)
            assert status == 200 and ctype == "image/jpeg" and body[:2] == b"\xff\xd8"
            assert fetch(f"{base}/no-such-cam/snapshot.jpg", token)[0] == 404
            wait_until(lambda: (sample_value(daemon.metrics(), "sitroom_camera_events_total",
                                             camera="cam-file", zone="walkway",
                                             rule="suspicious_activity") or 0) >= 1,
                       timeout=20, what="suspicious activity in the walkway")

            # objects by class, crossings of the line, and each event's own snapshot
            wait_until(lambda: (sample_value(daemon.metrics(), "sitroom_camera_objects",
                                             camera="cam-file", zone="", **{"class": "person"})
                                or 0) >= 1, timeout=20, what="people counted")
            wait_until(lambda: (sample_value(daemon.metrics(),
                                             "sitroom_camera_line_crossings_total",
                                             camera="cam-file", line="west", direction="out",
                                             **{"class": "person"}) or 0) >= 1,
                       timeout=60, what="a person crossing the line")
            # the line's event goes out through the core's event path (what Alertmanager and
            # MQTT get), its picture behind the pushed event's id
            def line_events() -> list[dict]:  # type: ignore[type-arg]
                status, _, listing = fetch(f"{daemon.url}/api/v1/events", token)
                assert status == 200
                return [e for e in json.loads(listing)["events"]
                        if e["alertname"] == "CameraLineCrossing"
                        and e["labels"].get("camera") == "cam-file"]

            wait_until(lambda: bool(line_events()), timeout=10, what="CameraLineCrossing")
            (pushed,) = line_events()
            assert pushed["labels"]["zone"] == "west" and pushed["severity"] == "critical"
            assert pushed["annotations"]["summary"] == "line west crossed on camera cam-file"
            picture = f"{daemon.url}/api/v1/events/{pushed['id']}/snapshot.jpg"
            assert fetch(picture)[0] == 403  # neither a signature nor a token
            status, ctype, body = fetch(picture, token)
            assert status == 200 and ctype == "image/jpeg" and body[:2] == b"\xff\xd8"
            # ... the very snapshot the camera kept for the first crosser (box drawn)
            first = next(json.loads(row)["event_id"] for row in daemon.output().splitlines()
                         if '"camera_event"' in row and '"line_crossing"' in row)
            assert fetch(f"{base}/cam-file/snapshot.jpg?event={first}", token)[2] == body
            event_ids = re.findall(r"event_id[\"=: ]+([0-9a-f]{16})", daemon.output())
            assert event_ids, "no event id in the log"
            route = f"{base}/cam-file/snapshot.jpg?event={event_ids[-1]}"
            assert fetch(route)[0] == 401
            status, ctype, body = fetch(route, token)
            assert status == 200 and ctype == "image/jpeg" and body[:2] == b"\xff\xd8"
            assert fetch(f"{base}/cam-file/snapshot.jpg?event=0000", token)[0] == 404

            # kill both stream servers: the cameras go down
            rtsp.kill()
            sim.stop()
            wait_until(lambda: up("cam-rtsp") == 0 and up("cam-mjpeg") == 0, timeout=20,
                       what="cameras down")
            assert up("cam-file") == 1
            # bring them back on the same ports: the daemon reconnects
            rtsp.start()
            sim = start_simulator(street_clip, sim_port, tmp_path)
            wait_until(lambda: up("cam-rtsp") == 1 and up("cam-mjpeg") == 1, timeout=30,
                       what="cameras back up")
            text = daemon.metrics()
            for name in ("cam-rtsp", "cam-mjpeg"):
                assert (sample_value(text, "sitroom_camera_reconnects_total", camera=name)
                        or 0) >= 1
            assert sample_value(text, "sitroom_source_up", kind="camera", source="cam-rtsp") == 1
        except AssertionError as exc:  # say what the daemon said, not only what we saw
            raise AssertionError(f"{exc}\n--- daemon (exit {daemon.proc.poll()}) ---\n"
                                 f"{daemon.output()[-6000:]}") from None
        finally:
            rtsp.kill()
            sim.stop()
            output = daemon.output()
        assert PASSWORD not in output
        assert http_get(f"{daemon.url}/-/healthy")[0] == 200
