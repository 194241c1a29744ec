"""The external example plugin (docs/examples/sitroom-example-weather), as a user meets it.

It is installed from its own folder by pip into a throwaway virtualenv that sees the dev
venv's packages (a `.pth` line), never into the dev venv itself; then it is loaded
(`sitroom plugins`), its own test suite runs against the installed package with the harness,
a real `sitroom run` serves its series and route, and pip uninstalls it again. Installing
it must not change the generated metric reference.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sysconfig
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support import (
    REPO,
    DaemonProcess,
    free_port,
    http_get,
    http_post,
    require_tool,
    sample_value,
    wait_until,
)

EXAMPLE = REPO / "docs" / "examples" / "sitroom-example-weather"
DIST = "sitroom-example-weather"


@dataclass
class ThrowawayEnv:
    root: Path
    python: str

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.python, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)

    def sitroom(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "sitroom.cli", *args)

    def pip(self, *args: str) -> None:
        result = self.run("-m", "pip", "--disable-pip-version-check", *args)
        assert result.returncode == 0, result.stdout + result.stderr

    def install_example(self) -> None:
        # from a copy: a build writes build/ and *.egg-info beside the sources
        copy = self.root / "src"
        shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
        # offline: sitroom comes from the dev venv, setuptools and wheel build it in place
        self.pip("install", "-q", "--no-deps", "--no-index", "--no-build-isolation", str(copy))

    def installed_at(self) -> Path | None:
        """Where this env imports the plugin from (None: it cannot)."""
        result = self.run("-c", "import sitroom_weather; print(sitroom_weather.__file__)")
        return Path(result.stdout.strip()).parent if result.returncode == 0 else None

    def plugins(self) -> dict[str, object]:
        result = self.sitroom("plugins")
        return json.loads(result.stdout)


def make_env(root: Path) -> ThrowawayEnv:
    """A virtualenv without pip of its own: one `.pth` line adds the dev venv's
    site-packages (sitroom, pip, pytest) behind its own, so pip installs into it alone."""
    venv.EnvBuilder(with_pip=False).create(root / "venv")
    python = str(root / "venv" / "bin" / "python")
    own = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                          "['purelib'])"], capture_output=True, text=True, check=True)
    dev = sysconfig.get_paths()["purelib"]
    pth = Path(own.stdout.strip(), "_sitroom_dev.pth")
    pth.write_text(f"import site; site.addsitedir({dev!r})\n")
    return ThrowawayEnv(root, python)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayEnv]:
    env = make_env(tmp_path_factory.mktemp("weather"))
    env.install_example()
    yield env


def test_it_is_installed_in_the_throwaway_env_only(env: ThrowawayEnv) -> None:
    """The package lands in the throwaway env (ahead of the dev venv's packages, which may
    hold their own copy) and the build leaves nothing in the repository."""
    assert env.root in env.installed_at().parents  # type: ignore[union-attr]
    assert not (EXAMPLE / "build").exists()
    assert not list(EXAMPLE.glob("src/*.egg-info"))


def test_sitroom_plugins_lists_it(env: ThrowawayEnv) -> None:
    report = env.plugins()
    weather = [p for p in report["plugins"] if p["name"] == "weather"]  # type: ignore[index]
    shown = re.search(r"```json\n(.*?)\n```", (REPO / "docs" / "plugins.md").read_text(), re.S)
    assert shown is not None and weather == [json.loads(shown[1])]  # what docs/plugins.md says
    assert report["failures"] == []
    assert "weather" in report["simulators"]  # type: ignore[operator]


def test_it_leaves_the_metric_reference_alone(env: ThrowawayEnv) -> None:
    everything = env.sitroom("metrics").stdout
    builtin = env.sitroom("metrics", "--builtin").stdout
    assert "sitroom_weather_temperature_celsius" in everything
    assert builtin == (REPO / "docs" / "metrics.md").read_text()


def test_its_own_tests_pass_against_the_installed_package(env: ThrowawayEnv) -> None:
    require_tool("promtool")  # its rule tests skip without it; here they must run
    result = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                     cwd=env.root / "src", timeout=170)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in summary and "skipped" not in summary, summary


def test_its_cli_exports_rules_promtool_accepts(env: ThrowawayEnv, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    result = env.sitroom("weather", "export-monitoring", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rules = tmp_path / "rules"
    check = subprocess.run([promtool, "test", "rules", "weather_test.yml"], cwd=rules,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def write_config(directory: Path, sim_port: int) -> str:
    """The example's sample.yaml (which docs/plugins.md shows), on free ports and polled
    every second; returns the daemon's API token."""
    token = "weather-e2e-token"
    directory.mkdir()
    (directory / "token").write_text(token)
    (directory / "weather.key").write_text("k-e2e-31")
    (directory / "00-daemon.yaml").write_text(yaml.safe_dump({"daemon": {
        "state_dir": "state", "auth": {"token_file": "token"}}}))
    sample = yaml.safe_load((EXAMPLE / "sample.yaml").read_text())
    source = sample["sources"][0]
    assert source["url"] == "http://127.0.0.1:18090"
    source.update(url=f"http://127.0.0.1:{sim_port}", interval="1s", timeout="2s")
    sample["simulators"]["weather"]["port"] = sim_port
    (directory / "10-weather.yaml").write_text(yaml.safe_dump(sample))
    return token


def test_the_daemon_runs_it(env: ThrowawayEnv, tmp_path: Path) -> None:
    sim_port = free_port()
    token = write_config(tmp_path / "conf.d", sim_port)
    auth = {"Authorization": f"Bearer {token}"}
    with DaemonProcess(tmp_path / "conf.d", python=env.python) as daemon:
        daemon.wait_ready()
        reading = {"source": "rooftops", "station": "tugu-muda"}
        text = wait_until(lambda: (t := daemon.metrics()) and sample_value(
            t, "sitroom_weather_observed_timestamp_seconds", **reading) and t,
            what="weather series")
        assert sample_value(text, "sitroom_plugin_loaded", plugin="weather") == 1
        assert sample_value(text, "sitroom_plugin_failures_total", plugin="weather") is None
        assert (sample_value(text, "sitroom_weather_temperature_celsius", **reading) or 0) > 25
        assert "k-e2e-31" not in text
        check = subprocess.run([require_tool("promtool"), "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=30)
        assert (check.returncode, check.stdout + check.stderr) == (0, "")

        status, body = http_get(f"{daemon.url}/api/v1/weather/rooftops", auth)
        assert status == 200, body
        assert {r["station"] for r in json.loads(body)["readings"]} == {
            "simpang-lima", "tugu-muda"}
        assert http_get(f"{daemon.url}/api/v1/weather/rooftops")[0] == 401

        # an outage: the source goes down, its gauges stay at their last values
        key = {"X-Api-Key": "k-e2e-31"}
        assert http_post(f"http://127.0.0.1:{sim_port}/v1/outage?on=1", headers=key)[0] == 200
        down = wait_until(lambda: (t := daemon.metrics()) and sample_value(
            t, "sitroom_source_up", source="rooftops") == 0 and t, what="source down")
        later = wait_until(lambda: (t := daemon.metrics()) and (sample_value(
            t, "sitroom_source_errors_total", source="rooftops", reason="status") or 0)
            >= 2 and t, what="a second failed poll")
        for name in ("sitroom_weather_temperature_celsius",
                     "sitroom_weather_observed_timestamp_seconds"):
            kept = sample_value(down, name, **reading)
            assert kept is not None and sample_value(later, name, **reading) == kept
        assert http_post(f"http://127.0.0.1:{sim_port}/v1/outage?on=0", headers=key)[0] == 200
        wait_until(lambda: sample_value(daemon.metrics(), "sitroom_source_up",
                                        source="rooftops") == 1, what="recovery")
    assert "k-e2e-31" not in daemon.output()


def test_pip_uninstall_removes_it(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    env.install_example()
    assert "weather_station" in env.plugins()["kinds"]  # type: ignore[operator]
    env.pip("uninstall", "-y", "-q", DIST)
    left = env.installed_at()
    assert left is None or env.root not in left.parents
    if left is None:  # unless the dev venv has a copy of its own, the plugin is gone
        report = env.plugins()
        assert "weather" not in [p["name"] for p in report["plugins"]]  # type: ignore[union-attr]
        assert "weather_station" not in report["kinds"]  # type: ignore[operator]
        assert env.sitroom("weather", "export-monitoring", str(tmp_path / "x")).returncode == 2
