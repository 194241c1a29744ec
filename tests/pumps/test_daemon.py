"""End to end (marked integration): `sitroom run` with the pump simulator from its config,
as the demo city runs it, and `sitroom simulate pumps` on its own."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import (
    DaemonProcess,
    ManagedProcess,
    free_port,
    http_get,
    http_post,
    require_tool,
    sample_value,
    wait_until,
)

from .conftest import CONF_DIR, PROFILES, REPO

pytestmark = pytest.mark.integration


def demo_config(tmp_path: Path) -> tuple[Path, int]:
    """conf.d's pump sources and simulator, moved to free ports."""
    config_dir = tmp_path / "conf.d"
    config_dir.mkdir()
    shutil.copytree(PROFILES, config_dir / "profiles")
    (tmp_path / "token").write_text("test-token-123456\n")
    (config_dir / "00-daemon.yaml").write_text(yaml.safe_dump({"daemon": {
        "state_dir": str(tmp_path / "state"), "auth": {"token_file": str(tmp_path / "token")}}}))
    sources = yaml.safe_load((CONF_DIR / "30-pumps.yaml").read_text())["sources"]
    simulator = yaml.safe_load((CONF_DIR / "95-sim-pumps.yaml").read_text())
    settings = simulator["simulators"]["pumps"]
    control_port = free_port()
    ports = {s["station"]["id"]: free_port() for s in sources}
    from sitroom_pumps.simulator import PumpSimulatorConfig

    stations = [{**s.model_dump(), "port": ports[s.id]} for s in PumpSimulatorConfig().stations]
    settings.update(control_port=control_port, stations=stations)
    for source in sources:
        source.update(port=ports[source["station"]["id"]], interval="500ms")
    (config_dir / "30-pumps.yaml").write_text(yaml.safe_dump({"sources": sources}))
    (config_dir / "95-sim-pumps.yaml").write_text(yaml.safe_dump(simulator))
    return config_dir, control_port


def test_demo_city_pumps_run_in_the_daemon_and_a_fault_reaches_metrics(tmp_path):
    config_dir, control_port = demo_config(tmp_path)
    with DaemonProcess(config_dir) as daemon:
        daemon.wait_ready()

        def all_stations_read() -> str | None:
            text = daemon.metrics()
            ok = all(sample_value(text, "sitroom_pump_station_sump_level_meters", station=s)
                     is not None for s in ("kali-semarang", "mberok", "kali-banger"))
            return text if ok else None

        text = wait_until(all_stations_read, timeout=30, what="all stations read")
        assert sample_value(text, "sitroom_source_up", source="rp-mberok") == 1
        control = f"http://127.0.0.1:{control_port}"
        status, body = http_post(f"{control}/fault?station=mberok&pump=P2&code=12")
        assert status == 200, body
        wait_until(lambda: sample_value(daemon.metrics(), "sitroom_pump_fault",
                                        station="mberok", pump="P2") == 1,
                   timeout=30, what="fault in metrics")
        text = daemon.metrics()
        assert sample_value(text, "sitroom_pump_fault_code", station="mberok", pump="P2") == 12
        status, body = http_post(f"{control}/comms?station=kali-banger&up=0")
        assert status == 200, body
        wait_until(lambda: sample_value(daemon.metrics(), "sitroom_source_up",
                                        source="rp-kali-banger") == 0,
                   timeout=30, what="dead station")
        text = daemon.metrics()
        assert sample_value(text, "sitroom_source_up", source="rp-mberok") == 1
        assert sample_value(text, "sitroom_pump_station_sump_level_meters",
                            station="kali-banger") is None
        # a station that answers too late fails on its own; the others keep being polled
        status, body = http_post(f"{control}/delay?station=kali-semarang&seconds=60")
        assert status == 200, body
        wait_until(lambda: sample_value(daemon.metrics(), "sitroom_source_up",
                                        source="rp-kali-semarang") == 0,
                   timeout=30, what="slow station down")
        mark = sample_value(daemon.metrics(), "sitroom_source_last_success_timestamp_seconds",
                            source="rp-mberok")
        assert mark is not None
        wait_until(lambda: (sample_value(
            daemon.metrics(), "sitroom_source_last_success_timestamp_seconds",
            source="rp-mberok") or 0) > mark, timeout=30, what="mberok still polled")
        text = daemon.metrics()
        assert sample_value(text, "sitroom_pump_station_modbus_errors_total",
                            station="kali-semarang", unit="1", reason="timeout") >= 1
        promtool = require_tool("promtool")
        check = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                               capture_output=True, timeout=30)
        assert (check.returncode, check.stdout + check.stderr) == (0, "")


def test_sitroom_simulate_pumps_serves_on_its_own(tmp_path):
    control_port, modbus_port = free_port(), free_port()
    config = tmp_path / "sim.yaml"
    config.write_text(yaml.safe_dump({"control_port": control_port, "stations": [
        {"id": "solo", "port": modbus_port, "pumps": [{"name": "P1"}]}]}))
    with ManagedProcess([sys.executable, "-m", "sitroom.cli", "simulate", "pumps",
                         "--config", str(config), "--set", "rain=12.5"], cwd=REPO) as proc:
        body = wait_until(lambda: http_get(f"http://127.0.0.1:{control_port}/state")[1],
                          timeout=20, what=f"simulator up: {proc.output()}")
        state = json.loads(body)
        assert state["rain_mm_per_hour"] == 12.5
        assert state["stations"]["solo"]["port"] == modbus_port
