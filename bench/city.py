"""One replica under a city's light sources: CPU and memory per source, scrape size and time.

Each phase starts a fresh `sitroom run` subprocess (one replica, as a pod runs it) with a
generated config, lets it warm up, then measures over a fixed window:

- CPU of the daemon process from /proc/PID/stat (utime + stime, all threads), in cores;
- resident memory (VmRSS) at the end of the window;
- the `/metrics` page: bytes, series (sample lines), and the time to fetch it (client wall
  time of a GET on loopback: render + transfer), median of a few scrapes;
- that the sources really worked: sources up, camera analyses done, readings taken.

The sources, all on loopback, each served by its own process (their CPU is not the
daemon's, but they share the machine's two cores):
- city cameras at the documented analysis settings: 1080p H.264 at 4 Mbit/s, a keyframe a
  second, one analysed frame a second, read from a looped file made with ffmpeg (the busy
  `testsrc2` picture of bench/cameras.py: the same demux and keyframe decoding as an RTSP
  camera, without the network reader);
- citizen cameras: the camera plugin's simulator (`sitroom simulate cameras`, real footage:
  plugins/sitroom_cameras/media/vtest.mp4, 768x576) read by snapshot polling at the
  citizen-camera default of the registry (`analysis_interval: 5s`, people detection off;
  conf.d/25-registry.yaml);
- pump stations: the pumps simulator (`sitroom simulate pumps`, real pymodbus TCP server),
  every station with the demo's Kali Semarang profile (PLC + drive, 29 points) at the demo's
  5 s interval, all against one simulated station (the cost measured is the poller's);
- flood sensors: one `mqtt_sensors` source subscribed to Mosquitto; a publisher process
  sends one AWLR JSON reading per sensor every FLOOD_PERIOD seconds.

The baseline, measured in the same run, is the same daemon with no sources: per-source
figures are (phase - baseline) / count. Where the machine cannot keep up (analyses/s below
the expected count / 5), CPU per source understates the cost: CPU per analysis (or per MQTT
message) is the figure that does not depend on the load, and the sizing guide uses it.
The phase with everything at once checks that the costs add up. The counts step up to
what this 2-core machine holds at its current load.

    .venv/bin/python -m bench city            (about 6 minutes)
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support import (
    DaemonProcess,
    ManagedProcess,
    free_port,
    http_get,
    wait_until,
)

REPO = Path(__file__).resolve().parent.parent
FOOTAGE = REPO / "plugins" / "sitroom_cameras" / "media" / "vtest.mp4"
PUMP_PROFILES = REPO / "conf.d" / "profiles"
WARMUP = 12.0
WINDOW = 20.0
SCRAPES = 5
CAMERA_INTERVAL = "5s"  # the registry's citizen-camera default (conf.d/25-registry.yaml)
PUMP_INTERVAL = "5s"  # the demo's stations (conf.d/30-pumps.yaml)
FLOOD_PERIOD = 10.0  # seconds between two readings of one sensor
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Phase:
    name: str
    cameras: int = 0
    pumps: int = 0
    sensors: int = 0
    streams: int = 0  # 1080p H.264 cameras at 1 analysed frame/s (file feed, looped)


PHASES = (
    Phase("baseline (no sources)"),
    Phase("1080p H.264 cameras, 1 frame/s", streams=40),
    Phase("cameras", cameras=300),
    Phase("cameras", cameras=1000),
    Phase("pump stations", pumps=100),
    Phase("pump stations", pumps=400),
    Phase("flood sensors", sensors=500),
    Phase("flood sensors", sensors=2000),
    Phase("all together", cameras=1000, pumps=400, sensors=2000),
)


def load() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# -- the sources' config -------------------------------------------------------------------


def camera_sources(count: int, port: int) -> list[dict[str, Any]]:
    return [
        {
            "kind": "camera",
            "name": f"cam-{i:05d}",
            "url": f"http://127.0.0.1:{port}/snapshot.jpg",
            "transport": "snapshot",
            "analysis_interval": CAMERA_INTERVAL,
            "analysis": {"people": False},
            "district": "Semarang Tengah",
            "owner_type": "citizen",
        }
        for i in range(count)
    ]


def stream_sources(count: int, clip: Path) -> list[dict[str, Any]]:
    """City cameras at the documented analysis settings: 1 keyframe analysed a second."""
    return [
        {
            "kind": "camera",
            "name": f"main-{i:04d}",
            "path": str(clip),
            "analysis_interval": "1s",
            "analysis": {"people": False},
        }
        for i in range(count)
    ]


def pump_sources(count: int, port: int) -> list[dict[str, Any]]:
    demo = yaml.safe_load((REPO / "conf.d" / "30-pumps.yaml").read_text())["sources"]
    station = next(s for s in demo if s["name"] == "rp-kali-semarang")
    out = []
    for i in range(count):
        config = {**station, "name": f"pump-{i:04d}", "host": "127.0.0.1", "port": port}
        config["interval"] = PUMP_INTERVAL
        config["station"] = {**station["station"], "id": f"station-{i:04d}"}
        config["devices"] = [
            {**d, "profile": str(PUMP_PROFILES / Path(d["profile"]).name)}
            for d in station["devices"]
        ]
        out.append(config)
    return out


def flood_source(count: int, port: int) -> dict[str, Any]:
    return {
        "kind": "mqtt_sensors",
        "name": "flood-bench",
        "host": "127.0.0.1",
        "port": port,
        "client_id": "sitroom-city-bench",
        "stale_after": "10m",
        "topics": [
            {
                "topic": "city/awlr/{sensor}",
                "format": "json",
                "fields": {"level": {"path": "level_cm", "scale": 0.01}, "battery": "batt"},
            }
        ],
        "sensors": {
            f"s{i:05d}": {
                "type": "water_level",
                "district": "Semarang Utara",
                "thresholds": {"waspada": 2.0, "siaga": 2.5, "awas": 3.0},
            }
            for i in range(count)
        },
    }


def write_config(directory: Path, phase: Phase, ports: dict[str, int]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text("city-bench-token-0123456789\n")
    daemon = {
        "listen": "127.0.0.1:0",
        "state_dir": str(directory / "state"),
        "auth": {"token_file": str(directory / "token")},
        "log_level": "warning",
        "limits": {"shutdown_timeout": "5s", "max_series_per_source": 100_000},
    }
    sources = camera_sources(phase.cameras, ports["cameras"])
    sources += stream_sources(phase.streams, directory.parent / "main-1080p.mp4")
    sources += pump_sources(phase.pumps, ports["modbus"])
    if phase.sensors:
        sources.append(flood_source(phase.sensors, ports["mqtt"]))
    (directory / "00-daemon.yaml").write_text(yaml.safe_dump({"daemon": daemon}))
    (directory / "50-sources.yaml").write_text(yaml.safe_dump({"sources": sources}))
    return directory


# -- the simulators ------------------------------------------------------------------------


def start_simulators(tmp: Path, ports: dict[str, int]) -> list[ManagedProcess]:
    from sitroom_flood.simulator import broker

    procs = []
    cameras = tmp / "sim-cameras.yaml"
    cameras.write_text(
        yaml.safe_dump({"port": ports["cameras"], "footage": str(FOOTAGE), "fps": 5})
    )
    procs.append(_simulate("cameras", cameras))
    from bench.cameras import make_clip

    # ffmpeg's testsrc2, 1080p, 4 Mbit/s, GOP 1 s: the busy stream of bench/cameras.py
    make_clip(tmp / "main-1080p.mp4", None)
    control = free_port()
    pumps = tmp / "sim-pumps.yaml"
    pumps.write_text(
        yaml.safe_dump(
            {
                "control_port": control,
                "tick": 1,
                "stations": [
                    {
                        "id": "kali-semarang",
                        "port": ports["modbus"],
                        "pumps": [{"name": "P1"}, {"name": "P2"}, {"name": "P3", "drive": "vsd"}],
                    }
                ],
            }
        )
    )
    procs.append(_simulate("pumps", pumps))
    mosquitto = broker.find_mosquitto()
    if mosquitto is None:
        raise SystemExit("bench.city needs mosquitto (make deps installs it)")
    conf = broker.write_config(tmp, ports["mqtt"])
    procs.append(ManagedProcess([mosquitto, "-c", str(conf)]))
    wait_until(
        lambda: http_get(f"http://127.0.0.1:{ports['cameras']}/snapshot.jpg")[0] == 200,
        timeout=30,
        what="camera simulator",
    )
    wait_until(
        lambda: http_get(f"http://127.0.0.1:{control}/state")[0] == 200,
        timeout=30,
        what="pump simulator",
    )
    return procs


def _simulate(name: str, config: Path) -> ManagedProcess:
    return ManagedProcess(
        [sys.executable, "-m", "sitroom.cli", "simulate", name, "--config", str(config)],
        cwd=REPO,
    )


class FloodPublisher:
    """One reading per sensor every FLOOD_PERIOD seconds, spread evenly (QoS 0, as AWLRs)."""

    def __init__(self, port: int, sensors: int) -> None:
        self.port, self.sensors = port, sensors
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FloodPublisher:
        if self.sensors:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        import paho.mqtt.client as paho

        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="city-bench-pub")
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        gap = FLOOD_PERIOD / self.sensors
        started = time.monotonic()
        while not self._stop.is_set():
            i = self.sent % self.sensors
            body = {"level_cm": 120 + (self.sent // self.sensors) % 40, "batt": 0.9}
            client.publish(f"city/awlr/s{i:05d}", json.dumps(body), qos=0)
            self.sent += 1
            delay = started + self.sent * gap - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
        client.disconnect()
        client.loop_stop()


# -- one phase -----------------------------------------------------------------------------


def scrape(url: str) -> tuple[float, int, int, str]:
    started = time.perf_counter()
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        body = response.read()
    elapsed = time.perf_counter() - started
    text = body.decode()
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    return elapsed, len(body), series, text


def count_up(text: str, kind: str) -> int:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        1
        for family in text_string_to_metric_families(text)
        if family.name == "sitroom_source_up"
        for sample in family.samples
        if sample.labels.get("kind") == kind and sample.value == 1
    )


def total(text: str, name: str) -> float:
    out = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            out += float(line.rsplit(" ", 1)[1])
    return out


def run_phase(tmp: Path, phase: Phase, ports: dict[str, int], index: int) -> dict[str, Any]:
    config_dir = write_config(tmp / f"phase{index}", phase, ports)
    with FloodPublisher(ports["mqtt"], phase.sensors), DaemonProcess(config_dir) as daemon:
        daemon.wait_ready(timeout=120)
        pid = daemon.proc.pid
        time.sleep(WARMUP)
        before = daemon.metrics()
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        time.sleep(WINDOW)
        cpu1, wall1 = cpu_seconds(pid), time.monotonic()
        rss = rss_mib(pid)
        scrapes = [scrape(daemon.url) for _ in range(SCRAPES)]
        text = scrapes[-1][3]
        analyses = total(text, "sitroom_camera_frames_analysed_total") - total(
            before, "sitroom_camera_frames_analysed_total"
        )
        received = total(text, "sitroom_flood_messages_received_total") - total(
            before, "sitroom_flood_messages_received_total"
        )
        result = {
            "phase": phase,
            "cores": (cpu1 - cpu0) / (wall1 - wall0),
            "rss": rss,
            "scrape_s": statistics.median(s[0] for s in scrapes),
            "bytes": scrapes[-1][1],
            "series": scrapes[-1][2],
            "cameras_up": count_up(text, "camera"),
            "pumps_up": count_up(text, "modbus_pump_station"),
            "analyses_per_s": analyses / WINDOW,
            "received_per_s": received / WINDOW,
            "levels": sum(
                1 for line in text.splitlines()
                if line.startswith("sitroom_flood_water_level_meters{")
            ),
            "load": load(),
        }
    return result


def describe(r: dict[str, Any], base: dict[str, Any]) -> str:
    phase: Phase = r["phase"]
    count = phase.cameras + phase.pumps + phase.sensors + phase.streams
    extra_cpu = (r["cores"] - base["cores"]) * 1000
    extra_rss = r["rss"] - base["rss"]
    per = ""
    if count and phase.name != "all together":
        per = (
            f"; per source {extra_cpu / count:.2f} mcore, "
            f"{extra_rss * 1024 / count:.0f} KiB"
        )
    works = []
    if phase.streams:
        works.append(
            f"{r['cameras_up']}/{phase.streams} cameras up, {r['analyses_per_s']:.1f} "
            f"analyses/s (expected {phase.streams}), "
            f"{(r['cores'] - base['cores']) * 1000 / max(r['analyses_per_s'], 1e-9):.1f} ms "
            "CPU per camera-second"
        )
    if phase.cameras:
        per_analysis = ""
        if r["analyses_per_s"] and not (phase.pumps or phase.sensors):
            ms = (r["cores"] - base["cores"]) * 1000 / r["analyses_per_s"]
            per_analysis = f", {ms:.2f} ms CPU per analysis"
        works.append(
            f"{r['cameras_up']}/{phase.cameras} cameras up, "
            f"{r['analyses_per_s']:.1f} analyses/s (expected {phase.cameras / 5:.0f})"
            f"{per_analysis}"
        )
    if phase.pumps:
        works.append(f"{r['pumps_up']}/{phase.pumps} stations up")
    if phase.sensors and not (phase.cameras or phase.pumps) and r["received_per_s"]:
        ms = (r["cores"] - base["cores"]) * 1000 / r["received_per_s"]
        works.append(f"{ms:.2f} ms CPU per message")
    if phase.sensors:
        works.append(
            f"{r['received_per_s']:.0f} msg/s received (sent {phase.sensors / FLOOD_PERIOD:.0f}),"
            f" {r['levels']}/{phase.sensors} sensors with a level"
        )
    return (
        f"{phase.name} c={phase.cameras + phase.streams} p={phase.pumps} s={phase.sensors}: "
        f"{r['cores']:.3f} cores, RSS {r['rss']:.0f} MiB{per}; /metrics {r['bytes'] / 1024:.0f}"
        f" KiB, {r['series']} series, fetched in {r['scrape_s'] * 1000:.0f} ms; "
        f"{'; '.join(works) or 'idle'}; load after {r['load']}"
    )


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load before: {load()}; warm-up {WARMUP:.0f} s, "
        f"window {WINDOW:.0f} s per phase",
        flush=True,
    )
    ports = {"cameras": free_port(), "modbus": free_port(), "mqtt": free_port()}
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-city-") as name:
        tmp = Path(name)
        procs = start_simulators(tmp, ports)
        try:
            base: dict[str, Any] | None = None
            for index, phase in enumerate(PHASES):
                result = run_phase(tmp, phase, ports, index)
                base = base or result
                print(describe(result, base), flush=True)
        finally:
            for proc in procs:
                proc.stop()
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
