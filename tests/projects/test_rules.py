"""The projects and traffic alert rules: valid, and their promtool unit tests pass.

(tests/alerts runs every rule file too; this keeps our two files checked where they are
written, and proves a wrong expectation is caught.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support import REPO, require_tool

RULES = [REPO / "alerts/projects.rules.yml", REPO / "alerts/traffic.rules.yml"]
TESTS = [REPO / "alerts/tests/projects_test.yml", REPO / "alerts/tests/traffic_test.yml"]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = require_tool("promtool")
    return subprocess.run([binary, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_rules_are_valid() -> None:
    result = promtool("check", "rules", *map(str, RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    result = promtool("test", "rules", *map(str, TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    source = TESTS[0].read_text()
    broken = source.replace("../projects.rules.yml", str(RULES[0]))
    broken = broken.replace("Deviation -14.7%", "Deviation -4.7%")
    assert broken.count(str(RULES[0])) == 1 and "Deviation -4.7%" in broken
    (tmp_path / "broken_test.yml").write_text(broken)
    result = promtool("test", "rules", str(tmp_path / "broken_test.yml"))
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
