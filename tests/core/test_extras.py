"""Plugin families as extras: the core without OpenCV, and a clear fix when an extra is missing.

The subprocesses here run the real `sitroom` CLI and daemon with some installed modules made
unimportable (tests/core/import_blocker, a meta-path finder loaded through sitecustomize), as
a user who installed `sitroom` without `[cameras]` would see them.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from sitroom import extras
from tests.support import REPO, DaemonProcess, sample_value, wait_until

HERE = Path(__file__).parent
BLOCKER = HERE / "import_blocker"
THIRD_PARTY = HERE / "extras_fixtures"
FAMILY_MODULES = ("cv2", "av", "numpy", "onnxruntime", "onnx", "pymodbus", "aiomqtt", "feedparser",
                  "defusedxml", "Sastrawi", "grafana_client", "niquests")
FAMILY_DISTRIBUTIONS = {"opencv-python-headless", "av", "numpy", "onnxruntime", "onnx",
                        "pymodbus", "aiomqtt", "feedparser", "defusedxml", "pysastrawi",
                        "grafana-client"}


def env_blocking(*modules: str, extra_path: Path | None = None) -> dict[str, str]:
    paths = [str(BLOCKER), *([str(extra_path)] if extra_path else []),
             os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p),
            "SITROOM_TEST_BLOCK": ",".join(modules)}


def sitroom(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sitroom.cli", *args], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120)


def builtin_plugins() -> set[str]:
    return {ep.name for ep in importlib.metadata.entry_points(group="sitroom.plugins")
            if ep.dist is not None and ep.dist.name == "sitroom"}


def test_the_blocker_really_blocks() -> None:
    result = subprocess.run([sys.executable, "-c", "import cv2"], capture_output=True,
                            text=True, env={**os.environ, **env_blocking("cv2")})
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'cv2'" in result.stderr


def test_a_missing_extra_is_reported_with_its_pip_command_and_the_rest_load() -> None:
    result = sitroom("plugins", env=env_blocking("cv2"))
    assert result.returncode == 1, result.stderr  # a failed plugin is an error
    report = json.loads(result.stdout)
    assert report["failures"] == [{  # refused before its import: cv2 is imported lazily
        "plugin": "cameras", "stage": "import",
        "error": "sitroom.extras.MissingExtraError: No module named 'cv2' (the 'cameras' "
                 "extra of sitroom)",
        "fix": "pip install 'sitroom[cameras]'",
    }, {
        "plugin": "registry", "stage": "import",
        "error": "sitroom.extras.MissingExtraError: No module named 'cv2' (the 'registry' "
                 "extra of sitroom)",
        "fix": "pip install 'sitroom[registry]'",
    }]
    loaded = {p["name"] for p in report["plugins"]} & builtin_plugins()  # others installed
    assert loaded == builtin_plugins() - {"cameras", "registry"}          # may load as well
    assert {"modbus_pump_station", "mqtt_sensors", "rss", "http_json"} <= set(report["kinds"])
    assert "camera" not in report["kinds"] and "cameras" not in report["simulators"]
    log = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    failed = [e for e in log if e.get("event") == "plugin_failed"]
    assert [(e["plugin"], e["fix"]) for e in failed] == [
        ("cameras", "pip install 'sitroom[cameras]'"),
        ("registry", "pip install 'sitroom[registry]'")]



def test_check_config_names_the_fix_and_only_the_cameras_entries() -> None:
    result = sitroom("check-config", "--config-dir", "conf.d", env=env_blocking("cv2"))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    failed = [e for e in errors if e.startswith("error: plugin ")]
    assert failed == [
        "error: plugin cameras (import): sitroom.extras.MissingExtraError: No module named "
        "'cv2' (the 'cameras' extra of sitroom); fix: pip install 'sitroom[cameras]'",
        "error: plugin registry (import): sitroom.extras.MissingExtraError: No module named "
        "'cv2' (the 'registry' extra of sitroom); fix: pip install 'sitroom[registry]'"]
    # the demo's camera sources and its camera simulator are the only other complaints
    others = [e for e in errors if e not in failed]
    assert len(others) == 7, others  # 4 cameras, 1 registry, the MJPEG and HLS simulators
    assert all(re.search(r"unknown (kind 'camera(_registry)?'|simulator)", e) for e in others)
    assert all("cameras" in e for e in others if "unknown kind" in e)  # the hint names it


def test_a_third_party_plugin_with_a_missing_extra_is_refused_before_its_import() -> None:
    result = sitroom("plugins", env=env_blocking(extra_path=THIRD_PARTY))
    report = json.loads(result.stdout)
    assert report["failures"] == [{
        "plugin": "fancy", "stage": "import",
        "error": "sitroom.extras.MissingExtraError: sitroom-no-such-distribution not "
                 "installed (the 'fancy' extra of sitroom-needs-extra)",
        "fix": "pip install 'sitroom-needs-extra[fancy]'",
    }]
    assert {p["name"] for p in report["plugins"]} >= builtin_plugins()


def test_a_bug_in_a_plugin_is_not_blamed_on_an_extra() -> None:
    needs = extras.PluginExtras("sitroom", "cameras", "sitroom_cameras")
    assert needs.explains(ModuleNotFoundError("No module named 'cv2'", name="cv2"))
    assert not needs.explains(ModuleNotFoundError("x", name="sitroom_cameras.typo"))
    assert not needs.explains(ImportError("libGL.so.1: cannot open shared object file"))
    assert not needs.explains(ValueError("bad"))


def test_extras_are_read_from_the_installed_metadata() -> None:
    by_plugin = {ep.name: extras.of_entry_point(ep)
                 for ep in importlib.metadata.entry_points(group="sitroom.plugins")
                 if ep.dist is not None and ep.dist.name == "sitroom"}
    assert {name: n.requirements() for name, n in by_plugin.items() if n} == {
        "cameras": ["opencv-python-headless", "av", "numpy", "onnxruntime", "onnx"],
        # psycopg for the PostgreSQL backend, OpenCV and PyAV through sitroom[cameras]
        "registry": ["psycopg", "opencv-python-headless", "av", "numpy", "onnxruntime", "onnx"],
        "pumps": ["pymodbus"],
        "flood": ["aiomqtt"],
        "social": ["feedparser", "defusedxml", "PySastrawi"],
        "warnings": ["defusedxml"],
    }
    assert {name for name, n in by_plugin.items() if n is None} == {
        "http_probe", "http_json", "projects"}  # nothing beyond the core
    assert all(not n.missing() for n in by_plugin.values() if n)  # make test installs [all]


def test_the_core_requires_no_plugin_family_dependency() -> None:
    requires = importlib.metadata.requires("sitroom") or []
    core = {re.match(r"[A-Za-z0-9._-]+", r).group(0).lower() for r in requires if ";" not in r}
    # Jinja2 and aiohttp-jinja2 render the core's pages (login, layout): small, pure Python;
    # markdown-it-py renders the runbooks the daemon serves (/docs/runbooks)
    assert core == {"pluggy", "prometheus-client", "aiohttp", "structlog", "pydantic", "pyyaml",
                    "jinja2", "aiohttp-jinja2", "markdown-it-py"}
    assert not core & FAMILY_DISTRIBUTIONS


def test_every_core_module_imports_without_plugin_family_dependencies() -> None:
    script = (
        "import importlib, pkgutil, sys, sitroom\n"
        "names = [m.name for m in pkgutil.walk_packages(sitroom.__path__, 'sitroom.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        f"leaked = sorted(m for m in {FAMILY_MODULES!r} if m in sys.modules)\n"
        "print(len(names), leaked)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, **env_blocking(*FAMILY_MODULES)}, timeout=120)
    assert result.returncode == 0, result.stderr
    count, leaked = result.stdout.split(" ", 1)
    assert int(count) >= 20 and leaked.strip() == "[]"


def test_grafana_push_without_its_extra_says_how_to_install_it(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("glsa_x\n")
    result = sitroom("grafana", "push", "--url", "http://127.0.0.1:9", "--token-file",
                     str(token), env=env_blocking("grafana_client"))
    assert result.returncode == 2
    assert "pip install 'sitroom[grafana]'" in result.stderr
    assert "glsa_x" not in result.stderr + result.stdout


def test_the_daemon_runs_the_other_plugins_and_exports_the_failure(tmp_path: Path) -> None:
    config = tmp_path / "conf.d"
    config.mkdir()
    (config / "00.yaml").write_text(yaml.safe_dump({
        "daemon": {"state_dir": str(tmp_path / "state")},
        "sources": [{"kind": "projects", "name": "dpu", "interval": "1s",
                     "file": str(REPO / "plugins/sitroom_projects/demo/semarang-projects.csv")}],
    }))
    with DaemonProcess(config, env=env_blocking("cv2")) as daemon:
        daemon.wait_ready()
        text = wait_until(lambda: (t := daemon.metrics()) and sample_value(
            t, "sitroom_source_up", source="dpu") == 1 and t, what="projects source up")
    assert sample_value(text, "sitroom_plugin_loaded", plugin="cameras") == 0
    assert sample_value(text, "sitroom_plugin_loaded", plugin="registry") == 0
    for plugin in builtin_plugins() - {"cameras", "registry"}:
        assert sample_value(text, "sitroom_plugin_loaded", plugin=plugin) == 1, plugin
    assert "pip install 'sitroom[cameras]'" in daemon.output()
