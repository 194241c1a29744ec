"""Under CI=true a skip fails the run (tests/conftest.py); locally it stays a skip.

Runs a real pytest in a subprocess on a small suite that skips in every way a test can: in
its body, in a fixture, and for a whole module at collection. `xfail` must stay `xfail`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

SUITE = '''
import pytest

@pytest.fixture
def service():
    pytest.skip("mosquitto is not installed")

def test_skips_in_body():
    pytest.skip("ffmpeg is not installed")

def test_skips_in_fixture(service):
    pass

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False

def test_passes():
    assert 1 + 1 == 2
'''
MODULE_SKIP = '''
import pytest
pytest.skip("no GStreamer here", allow_module_level=True)

def test_never_collected():
    pass
'''


def run_pytest(tmp_path: Path, files: dict[str, str], ci: str | None
               ) -> subprocess.CompletedProcess[str]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-q", "-rA", "--rootdir", str(tmp_path), "-c", os.devnull,
         "-o", "asyncio_default_fixture_loop_scope=function", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_skips_in_tests_and_fixtures_fail_under_ci(tmp_path: Path, ci: str) -> None:
    result = run_pytest(tmp_path, {"test_suite.py": SUITE}, ci)
    out, last = result.stdout, result.stdout.splitlines()[-1]
    assert result.returncode == 1, out
    # a skip in the body fails the test; one in a fixture errors its setup
    assert "1 failed" in last and "1 error" in last, last
    assert "1 passed" in last and "1 xfailed" in last and "skipped" not in last, last
    for reason in ("ffmpeg is not installed", "mosquitto is not installed"):
        assert f"every test must run: Skipped: {reason}" in out, out


def test_a_module_that_skips_at_collection_fails_under_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, {"test_module_skip.py": MODULE_SKIP}, "true")
    assert result.returncode != 0, result.stdout
    assert "ERROR test_module_skip.py" in result.stdout
    assert "every test must run: Skipped: no GStreamer here" in result.stdout


def test_skips_stay_skips_outside_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, {"test_suite.py": SUITE, "test_module_skip.py": MODULE_SKIP},
                        None)
    last = result.stdout.splitlines()[-1]
    assert result.returncode == 0, result.stdout
    assert "3 skipped" in last and "1 passed" in last and "1 xfailed" in last, last
    assert not re.search(r"\b(failed|errors?)\b", last), last
