"""The shipped alert rules: valid, unit-tested by promtool, documented, on declared metrics."""

from __future__ import annotations

import subprocess

import pytest

from tests.alerts import rules as r
from tests.support import REPO, require_tool

pytestmark = pytest.mark.integration


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_rule_files_exist_per_domain() -> None:
    names = {p.name for p in r.rule_files()}
    assert {"sre.rules.yml", "flood.rules.yml", "pumps.rules.yml",
            "cameras.rules.yml"} <= names


def test_promtool_check_rules() -> None:
    promtool = require_tool("promtool")
    result = _run([promtool, "check", "rules", *map(str, r.rule_files())])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests() -> None:
    promtool = require_tool("promtool")
    result = _run([promtool, "test", "rules", *map(str, r.test_files())])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_catch_a_wrong_expectation(tmp_path) -> None:
    """The unit-test step can fail: a test expecting the wrong team is reported."""
    promtool = require_tool("promtool")
    source = (REPO / "alerts" / "tests" / "sre_test.yml").read_text()
    broken = source.replace("../sre.rules.yml", str(REPO / "alerts" / "sre.rules.yml"))
    broken = broken.replace("team: sre, job: sitroom, instance: \"a:9750\"}",
                            "team: bpbd, job: sitroom, instance: \"a:9750\"}", 1)
    assert broken != source
    (tmp_path / "broken_test.yml").write_text(broken)
    result = _run([promtool, "test", "rules", str(tmp_path / "broken_test.yml")])
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_every_alert_follows_conventions() -> None:
    problems = r.convention_problems(r.load_rules(r.rule_files()), r.RUNBOOKS.read_text())
    assert problems == []


def test_convention_check_reports_broken_rules() -> None:
    bad = [
        r.Rule("x.rules.yml", "g", {"alert": "NoTeam", "expr": "up == 0",
                                     "labels": {"severity": "loud"},
                                     "annotations": {"summary": "s",
                                                     "runbook_url": "docs/runbooks.md#other"}}),
        r.Rule("y.rules.yml", "g", {"alert": "NoTeam", "expr": "up == 0"}),
    ]
    problems = "\n".join(r.convention_problems(bad, "## Something else\n"))
    for fragment in ("severity must be", "team must be", "missing annotation description_id",
                     "runbook_url must be " + r.RUNBOOK_BASE + "#noteam",
                     "no section 'NoTeam'", "also used in x.rules.yml"):
        assert fragment in problems


def test_every_metric_in_an_expression_is_declared() -> None:
    from tests.alerts.promql import PROMETHEUS_OWN, config_declared_metrics, declared_metrics

    rules = r.load_rules(r.rule_files())
    known = declared_metrics() | PROMETHEUS_OWN | config_declared_metrics(REPO / "conf.d")
    assert r.undeclared_metrics(rules, known) == []


def test_undeclared_metric_is_reported() -> None:
    rule = r.Rule("z.rules.yml", "g", {"alert": "Typo",
                                        "expr": 'sitroom_sorce_up{kind="x"} == 0'})
    assert r.undeclared_metrics([rule], {"sitroom_source_up"}) == [
        "z.rules.yml:Typo: metric sitroom_sorce_up is declared by no plugin"]


def test_every_alert_has_firing_near_miss_and_resolved_cases() -> None:
    assert r.unit_test_coverage(r.load_rules(r.rule_files()), r.test_files()) == []


def test_alertmanager_example_is_valid() -> None:
    amtool = require_tool("amtool")
    result = _run([amtool, "check-config", "alerts/alertmanager.example.yml"])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("team", sorted(r.TEAMS))
def test_alertmanager_example_routes_each_team(team: str) -> None:
    amtool = require_tool("amtool")
    result = _run([amtool, "config", "routes", "test",
                   "--config.file=alerts/alertmanager.example.yml",
                   f"team={team}", "severity=warning"])
    assert result.returncode == 0, result.stderr
    assert team in result.stdout.split()[0].split(","), result.stdout

