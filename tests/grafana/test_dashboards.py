"""The generated dashboards: committed JSON matches the generator, and every board is sound."""

from __future__ import annotations

import json
import re
import sys

import pytest

from tests.alerts.promql import PROMETHEUS_OWN, declared_metrics, metric_names
from tests.alerts.rules import RUNBOOKS, github_anchors
from tests.support import REPO

sys.path.insert(0, str(REPO / "grafana"))
import generate

BOARDS = generate.build_all()
# Core Grafana panel types (no plugin needed), the only ones the boards may use.
PANEL_TYPES = {"row", "stat", "timeseries", "table", "geomap", "bargauge", "state-timeline",
               "gauge", "text"}


def test_committed_json_matches_the_generator() -> None:
    assert generate.drift() == [], "run .venv/bin/python grafana/generate.py"


def test_drift_is_detected(tmp_path) -> None:
    assert generate.main(["--out", str(tmp_path)]) == 0
    assert generate.drift(tmp_path) == []
    first = sorted(tmp_path.glob("*.json"))[0]
    first.write_text(first.read_text().replace('"title"', '"titel"', 1))
    (tmp_path / "stale.json").write_text("{}")
    problems = generate.drift(tmp_path)
    assert f"{first.name}: differs from the generator" in problems
    assert "stale.json: no board module generates it" in problems
    assert generate.main(["--check", "--out", str(tmp_path)]) == 1


def test_the_required_boards_exist() -> None:
    assert {"overview", "flood-pumps", "cameras", "daemon"} <= set(BOARDS)


@pytest.mark.parametrize("stem", sorted(BOARDS))
def test_board_is_well_formed(stem: str) -> None:
    board = BOARDS[stem]
    names = [v["name"] for v in board["templating"]["list"]]
    assert names[0] == "datasource" and "runbooks" in names
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
        assert panel["type"] in PANEL_TYPES, panel["type"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}"
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]


@pytest.mark.parametrize("stem", sorted(BOARDS))
def test_links_point_at_boards_and_runbooks_that_exist(stem: str) -> None:
    uids = {b["uid"] for b in BOARDS.values()}
    anchors = github_anchors(RUNBOOKS.read_text())
    for panel in BOARDS[stem]["panels"]:
        for link in panel.get("links", []):
            board = re.match(r"/d/([a-z0-9-]+)", link["url"])
            anchor = re.match(r"\$\{runbooks\}#(.+)", link["url"])
            assert board or anchor, link
            if board:
                assert board.group(1) in uids, link
            else:
                assert anchor.group(1) in anchors, link


@pytest.mark.parametrize("stem", sorted(BOARDS))
def test_every_panel_metric_is_declared(stem: str) -> None:
    from tests.alerts.promql import config_declared_metrics

    known = declared_metrics() | PROMETHEUS_OWN | config_declared_metrics(REPO / "conf.d")
    missing = [(title, name) for title, expr in generate_exprs(stem)
               for name in metric_names(expr) if name not in known]
    assert missing == []


def generate_exprs(stem: str) -> list[tuple[str, str]]:
    from dashgen.builders import panel_exprs

    return panel_exprs(BOARDS[stem])


def test_committed_files_are_valid_json() -> None:
    for path in (REPO / "grafana" / "dashboards").glob("*.json"):
        assert json.loads(path.read_text())["uid"]
