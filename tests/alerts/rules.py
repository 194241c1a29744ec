"""Reading the rule files and checking the conventions in alerts/README.md.

Checks return lists of problems (strings) instead of asserting, so the tests can prove each
check catches a broken rule as well as pass the shipped ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.alerts.promql import metric_names
from tests.support import REPO

ALERTS_DIR = REPO / "alerts"
RUNBOOKS = REPO / "docs" / "runbooks.md"
SEVERITIES = frozenset({"critical", "warning", "info"})
TEAMS = frozenset({"bpbd", "dpu", "dishub", "security", "sre"})
RUNBOOK_BASE = ('{{ with query "sitroom_docs_info" }}{{ . | first | label "runbooks" }}'
                '{{ else }}docs/runbooks.md{{ end }}')
"""What every runbook_url starts with: the page the daemon serves (its sitroom_docs_info),
or the path in the repository when no daemon's series is there (promtool unit tests)."""
ANNOTATIONS = ("summary", "summary_id", "description", "description_id", "runbook_url")


@dataclass(frozen=True)
class Rule:
    file: str
    group: str
    body: dict[str, Any]

    @property
    def alert(self) -> str | None:
        return self.body.get("alert")

    @property
    def record(self) -> str | None:
        return self.body.get("record")


def rule_files() -> list[Path]:
    return sorted(ALERTS_DIR.glob("*.rules.yml"))


def test_files() -> list[Path]:
    return sorted((ALERTS_DIR / "tests").glob("*.yml"))


def load_rules(paths: list[Path]) -> list[Rule]:
    rules = []
    for path in paths:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group in doc.get("groups", []):
            for body in group.get("rules", []):
                rules.append(Rule(path.name, group["name"], body))
    return rules


def github_anchors(markdown: str) -> set[str]:
    """Anchors GitHub makes for headings (lower case, punctuation dropped, spaces to -)."""
    anchors = set()
    for line in markdown.splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
        anchors.update(re.findall(r'<a (?:id|name)="([^"]+)"', line))
    return anchors


def convention_problems(rules: list[Rule], runbooks: str) -> list[str]:
    problems = []
    anchors = github_anchors(runbooks)
    seen: dict[str, str] = {}
    for rule in rules:
        name = rule.alert
        if name is None:
            continue
        where = f"{rule.file}:{name}"
        if name in seen:
            problems.append(f"{where}: alert name also used in {seen[name]}")
        seen[name] = rule.file
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]+", name):
            problems.append(f"{where}: alert names are CamelCase")
        labels = rule.body.get("labels") or {}
        if labels.get("severity") not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {sorted(SEVERITIES)}")
        if labels.get("team") not in TEAMS:
            problems.append(f"{where}: team must be one of {sorted(TEAMS)}")
        annotations = rule.body.get("annotations") or {}
        for key in ANNOTATIONS:
            if not str(annotations.get(key, "")).strip():
                problems.append(f"{where}: missing annotation {key}")
        expected = f"{RUNBOOK_BASE}#{name.lower()}"
        url = str(annotations.get("runbook_url", ""))
        if url != expected:
            problems.append(f"{where}: runbook_url must be {expected}")
        if name.lower() not in anchors:
            problems.append(f"{where}: docs/runbooks.md has no section '{name}'")
    return problems


def undeclared_metrics(rules: list[Rule], declared: set[str]) -> list[str]:
    recorded = {r.record for r in rules if r.record}
    problems = []
    for rule in rules:
        for name in sorted(metric_names(str(rule.body.get("expr", "")))):
            if name not in declared and name not in recorded:
                problems.append(f"{rule.file}:{rule.alert or rule.record}: "
                                f"metric {name} is declared by no plugin")
    return problems


def unit_test_coverage(rules: list[Rule], tests: list[Path]) -> list[str]:
    """Each alert needs a case where it fires and one where it does not (near miss/resolved)."""
    fires: dict[str, int] = {}
    quiet: dict[str, int] = {}
    for path in tests:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for case in doc.get("tests", []):
            for check in case.get("alert_rule_test", []):
                bucket = fires if check.get("exp_alerts") else quiet
                bucket[check["alertname"]] = bucket.get(check["alertname"], 0) + 1
    problems = []
    for rule in rules:
        if rule.alert is None:
            continue
        if not fires.get(rule.alert):
            problems.append(f"{rule.alert}: no unit test where it fires")
        if quiet.get(rule.alert, 0) < 2:
            problems.append(f"{rule.alert}: needs unit tests where it must not fire "
                            "(a near miss and after it resolved)")
    return problems
