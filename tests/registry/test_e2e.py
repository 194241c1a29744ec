"""End to end: `sitroom run` as a subprocess with the REAL camera kind, and crash safety.

Everything connects to 127.0.0.1 only: the daemon, and a stdlib HTTP camera serving real
OpenCV-encoded JPEG snapshots, which the test's allow-list (127.0.0.1/32) lets the registry
reach.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.postgres import PostgresServer
from tests.registry.conftest import (
    SECRET_EMAIL,
    SECRET_PASSWORD,
    SECRET_PHONE,
    TOKEN,
    backend_config,
    form,
    make_jpeg,
    registry_source,
    write_config,
)
from tests.support import (
    DaemonProcess,
    free_port,
    http_get,
    http_post,
    sample_value,
    wait_until,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextlib.contextmanager
def snapshot_camera(
    hits: list[str] | None = None, delay: float = 0.0, paths: str = "/snap.jpg"
) -> Iterator[int]:
    """A threaded HTTP camera on loopback: GET /snap.jpg returns a real JPEG.

    `hits` records each request's path; `delay` slows each answer (a probe in flight long
    enough for another replica to try to take it); `paths` is the prefix served.
    """
    jpeg = make_jpeg(640, 360, seed=1)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if hits is not None:
                hits.append(self.path)
            if not self.path.startswith(paths):
                self.send_error(404)
                return
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(jpeg)))
            self.end_headers()
            self.wfile.write(jpeg)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def wait_registry(daemon: DaemonProcess) -> None:
    """`/-/ready` means sources started; the registry answers once its store is open."""
    daemon.wait_ready()
    wait_until(
        lambda: sample_value(daemon.metrics(), "sitroom_source_up", kind="camera_registry") == 1,
        what="registry up",
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`sitroom cameras ...` in-process (same code path as the console script, less start-up)."""
    from sitroom.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["cameras", *args])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def camera_row(daemon: DaemonProcess, reg_id: str) -> dict[str, object]:
    status, body = http_get(f"{daemon.url}/api/v1/cameras/{reg_id}", headers=AUTH)
    assert status == 200, body
    return dict(json.loads(body))


@pytest.mark.integration
def test_registered_camera_is_monitored_without_restart(tmp_path: Path) -> None:
    with snapshot_camera() as port:
        config_dir = write_config(tmp_path / "conf", [registry_source(port)])
        with DaemonProcess(config_dir) as daemon:
            wait_registry(daemon)
            status, body = http_post(f"{daemon.url}/api/v1/registrations", form(port))
            assert status == 201, body
            reg_id = json.loads(body)["id"]
            row = wait_until(
                lambda: (r := camera_row(daemon, reg_id))["status"] == "awaiting_approval" and r,
                what="probe",
            )
            assert (row["width"], row["height"], row["codec"]) == (640, 360, "jpeg")

            # approval from the CLI, which writes the same SQLite file the daemon serves
            listed = cli("list", "--config-dir", str(config_dir))
            assert listed.returncode == 0 and reg_id in listed.stdout, listed.stderr
            approved = cli("approve", reg_id, "--config-dir", str(config_dir), "--actor", "ops")
            assert approved.returncode == 0, approved.stderr
            camera = str(row["camera_name"])
            assert reg_id not in camera

            def monitored() -> str | None:
                text = daemon.metrics()
                up = sample_value(text, "sitroom_source_up", kind="camera", source=camera)
                seen = sample_value(text, "sitroom_camera_width_pixels", camera=camera)
                return text if up == 1 and seen == 640 else None

            live = wait_until(monitored, timeout=30, what="camera monitored")
            assert reg_id not in live  # the status-URL secret is no label
            assert (
                sample_value(
                    live,
                    "sitroom_camera_info",
                    camera=camera,
                    district="Semarang Tengah",
                    owner_type="business",
                )
                == 1
            )
            assert (
                sample_value(
                    live,
                    "sitroom_registry_registrations",
                    status="active",
                    district="Semarang Tengah",
                )
                == 1
            )
            status, sd = http_get(f"{daemon.url}/api/v1/sd/cameras", headers=AUTH)
            assert status == 200 and json.loads(sd)[0]["targets"] == [f"127.0.0.1:{port}"]
            assert http_get(f"{daemon.url}/api/v1/sd/cameras")[0] == 401

            suspended = cli("suspend", reg_id, "--config-dir", str(config_dir))
            assert suspended.returncode == 0, suspended.stderr
            wait_until(
                lambda: sample_value(daemon.metrics(), "sitroom_source_up", source=camera) is None,
                what="camera withdrawn",
            )
            audit = json.loads(
                http_get(f"{daemon.url}/api/v1/cameras/{reg_id}/audit", headers=AUTH)[1]
            )["audit"]
            assert [(a["action"], a["actor"]) for a in audit][-2:] == [
                ("approve", "ops"),
                ("suspend", "cli"),
            ]
            exported = cli("export", "--config-dir", str(config_dir))
            assert exported.returncode == 0 and reg_id in exported.stdout
            final_metrics = daemon.metrics()
        output = daemon.output()
    assert SECRET_PASSWORD not in exported.stdout and SECRET_PHONE not in exported.stdout
    for text in (live, final_metrics, sd, output):
        assert SECRET_PASSWORD not in text
        assert SECRET_PHONE not in text and SECRET_EMAIL not in text
        assert "/snap.jpg" not in text  # no full stream URL
    assert "registration_received" in output  # the log was captured, and is clean


@pytest.mark.integration
def test_acknowledged_registrations_survive_sigkill(
    tmp_path: Path, backend_kind: str, request: pytest.FixtureRequest
) -> None:
    """On SQLite and on PostgreSQL: a 201 means committed, whatever kills the writer."""
    server = request.getfixturevalue("postgres") if backend_kind == "postgresql" else None
    dead_port = free_port()  # probes fail fast (connection refused on loopback)
    source = registry_source(
        dead_port,
        registration_limit={"per_minute": 6000, "burst": 1000},
        **backend_config(backend_kind, tmp_path, server),
    )
    config_dir = write_config(tmp_path / "conf", [source])
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    with DaemonProcess(config_dir) as daemon:
        wait_registry(daemon)

        def burst() -> None:
            while not stop.is_set():
                try:
                    status, body = http_post(
                        f"{daemon.url}/api/v1/registrations", form(dead_port), timeout=5
                    )
                except OSError:
                    return  # the daemon is gone
                if status == 201:
                    with lock:
                        acknowledged.append(json.loads(body)["id"])

        threads = [threading.Thread(target=burst) for _ in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(acknowledged) >= 20, timeout=30, what="some registrations")
        daemon.signal(signal.SIGKILL)  # mid-burst: requests are in flight
        daemon.proc.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

    with DaemonProcess(config_dir) as again:
        wait_registry(again)

        def stored() -> set[str] | None:
            status, body = http_get(f"{again.url}/api/v1/cameras", headers=AUTH)
            return {c["id"] for c in json.loads(body)["cameras"]} if status == 200 else None

        ids = wait_until(stored, what="registry reopened")
        missing = set(acknowledged) - ids
        assert not missing, f"{len(missing)} acknowledged registrations lost"
        assert len(acknowledged) >= 20
        # nothing stays stuck in `probing` after the crash
        wait_until(
            lambda: (
                not [
                    c
                    for c in json.loads(
                        http_get(f"{again.url}/api/v1/cameras?status=probing", headers=AUTH)[1]
                    )["cameras"]
                ]
            ),
            what="interrupted probes requeued",
        )


def _list(daemon: DaemonProcess, status: str | None = None) -> list[dict[str, object]]:
    query = f"?status={status}" if status else ""
    code, body = http_get(f"{daemon.url}/api/v1/cameras{query}", headers=AUTH)
    assert code == 200, body
    return list(json.loads(body)["cameras"])


@pytest.mark.integration
def test_two_replicas_share_one_postgresql_registry(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """Two shards on one database: each sees the other's registrations, the public form
    works on either, every camera is probed exactly once, and the DSN's password is nowhere."""
    hits: list[str] = []
    with snapshot_camera(hits, delay=0.4, paths="/snap/") as port:
        backend = backend_config("postgresql", tmp_path, postgres)
        dirs = [
            write_config(
                tmp_path / f"conf{i}",
                [registry_source(port, registration_limit={"burst": 20}, **backend)],
            )
            for i in range(2)
        ]
        with (
            DaemonProcess(dirs[0], ["--shard", "sitroom-0/2"]) as a,
            DaemonProcess(dirs[1], ["--shard", "sitroom-1/2"]) as b,
        ):
            wait_registry(a)
            wait_registry(b)
            ids = []
            for n in range(12):
                replica = (a, b)[n % 2]
                stream = dict(form(port)["stream"], path=f"/snap/{n}.jpg")
                code, body = http_post(
                    f"{replica.url}/api/v1/registrations", form(port, stream=stream)
                )
                assert code == 201, body
                ids.append(json.loads(body)["id"])
            for replica in (a, b):
                wait_until(
                    lambda r=replica: len(_list(r, "awaiting_approval")) == 12,
                    timeout=60,
                    what="every registration probed, seen from both replicas",
                )
            probe_hits = sorted(h for h in hits if h.startswith("/snap/"))
            # approved on one replica (through the CLI on its config), seen on the other
            # (and then monitored by the shard that owns it: more hits, not probes)
            approved = cli("approve", ids[0], "--config-dir", str(dirs[0]))
            assert approved.returncode == 0, approved.stderr
            wait_until(
                lambda: sample_value(
                    b.metrics(), "sitroom_registry_registrations", status="active",
                    district="Semarang Tengah",
                ) == 1,
                what="the other replica noticed the approval",
            )
            audits = [
                json.loads(http_get(f"{b.url}/api/v1/cameras/{i}/audit", headers=AUTH)[1])
                for i in ids
            ]
            details = json.loads(http_get(f"{a.url}/api/v1/sources", headers=AUTH)[1])
        outputs = a.output() + b.output()
    assert probe_hits == sorted(f"/snap/{n}.jpg" for n in range(12))  # each camera once
    for audit in audits:
        starts = [e for e in audit["audit"] if e["action"] == "probe_start"]
        assert len(starts) == 1, audit
    assert "registry_probes_requeued" not in outputs  # nobody took a live claim
    assert postgres.password not in outputs + json.dumps(details)
    assert f"127.0.0.1:{postgres.port}" in json.dumps(details)  # the redacted DSN is shown
