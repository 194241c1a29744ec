"""End-to-end (slow-ish, ~3 s): the real daemon runs the demo traffic and projects sources.

Checks what only a live daemon shows: configured families declared per source through
`SourceKind.metrics_for`, a clash between two sources refused for the second source only,
the traffic simulator polled over loopback, and `promtool check metrics` silence.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.support import REPO, DaemonProcess, free_port, require_tool, sample_value, wait_until


def demo_dir(tmp_path: Path) -> Path:
    """conf.d's traffic and projects files, on free ports, with an absolute CSV path."""
    conf = tmp_path / "conf.d"
    conf.mkdir()
    port = free_port()
    (conf / "00-daemon.yaml").write_text(yaml.safe_dump({"daemon": {"state_dir": str(tmp_path)}}))
    sim = yaml.safe_load((REPO / "conf.d/98-sim-traffic.yaml").read_text())
    sim["simulators"]["traffic"]["port"] = port
    (conf / "98-sim-traffic.yaml").write_text(yaml.safe_dump(sim))
    traffic = yaml.safe_load((REPO / "conf.d/61-traffic.yaml").read_text())
    source = traffic["sources"][0]
    source["url"] = source["url"].replace("18701", str(port))
    source["interval"] = "1s"
    clash = {**source, "name": "traffic-clash",
             "metrics": [{**source["metrics"][0], "help": "A different meaning."}]}
    traffic["sources"].append(clash)
    (conf / "61-traffic.yaml").write_text(yaml.safe_dump(traffic))
    projects = yaml.safe_load((REPO / "conf.d/60-projects.yaml").read_text())
    projects["sources"][0]["file"] = str((REPO / "conf.d" / projects["sources"][0]["file"])
                                         .resolve())
    (conf / "60-projects.yaml").write_text(yaml.safe_dump(projects))
    return conf


def test_demo_traffic_and_projects_in_a_live_daemon(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    with DaemonProcess(demo_dir(tmp_path)) as daemon:
        daemon.wait_ready()

        def polled() -> str | None:
            text = daemon.metrics()
            ok = sample_value(text, "sitroom_source_up", source="traffic-semarang") == 1
            return text if ok and "sitroom_project_critical{" in text else None

        text = wait_until(polled, timeout=20, what="traffic and projects polled")
        speed = sample_value(text, "sitroom_traffic_speed_meters_per_second",
                             source="traffic-semarang", segment="jl-kaligawe")
        free = sample_value(text, "sitroom_traffic_free_flow_speed_meters_per_second",
                            source="traffic-semarang", segment="jl-kaligawe")
        assert speed is not None and free is not None and 0 < speed < 0.3 * free  # jammed
        assert sample_value(text, "sitroom_traffic_segment_info", segment="jl-kaligawe",
                            district="Gayamsari") == 1
        # the clashing source is refused; the first keeps its definition and runs on
        assert sample_value(text, "sitroom_source_up", source="traffic-clash") == 0
        assert sample_value(text, "sitroom_source_errors_total", source="traffic-clash",
                            reason="internal") == 1
        assert "A different meaning." not in text
        assert sample_value(text, "sitroom_projects_invalid_records",
                            source="proyek-kota-semarang") == 0
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=30)
        assert check.returncode == 0 and not (check.stdout + check.stderr).strip(), check.stdout
