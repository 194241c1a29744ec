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


def city_map(board: dict) -> dict:
    return next(p for p in board["panels"] if p["type"] == "geomap")


def test_the_committed_map_uses_grafanas_default_basemap() -> None:
    options = city_map(BOARDS["overview"])["options"]
    assert options["basemap"]["type"] == "default"
    assert [layer["type"] for layer in options["layers"]] == ["markers"] * 3


@pytest.mark.parametrize(("tiles", "basemap"), [
    ("https://tiles.semarangkota.example/osm/{z}/{x}/{y}.png",
     {"type": "xyz", "name": "Basemap", "config": {
         "url": "https://tiles.semarangkota.example/osm/{z}/{x}/{y}.png",
         "attribution": "(c) OpenStreetMap contributors"}}),
    ("none", None),
])
def test_an_air_gapped_room_gets_its_own_tiles_or_a_plain_background(
        tmp_path, monkeypatch, tiles: str, basemap: dict | None) -> None:
    monkeypatch.setenv("SITROOM_MAP_TILES", tiles)
    monkeypatch.setenv("SITROOM_MAP_ATTRIBUTION", "(c) OpenStreetMap contributors")
    assert generate.main(["--out", str(tmp_path)]) == 0
    options = city_map(json.loads((tmp_path / "overview.json").read_text()))["options"]
    if basemap is not None:
        assert options["basemap"] == basemap
    else:  # Grafana's own country outlines: nothing fetched from outside Grafana
        assert options["basemap"]["type"] == "geojson"
        assert options["basemap"]["config"]["src"] == "public/maps/countries.geojson"
    # the markers are the same whatever lies under them
    assert options["layers"] == city_map(BOARDS["overview"])["options"]["layers"]
    # the committed boards are not what a city generates for itself
    assert generate.drift() == []
    monkeypatch.delenv("SITROOM_MAP_TILES")
    generate.build_all()  # the default again for the other tests in this process


@pytest.mark.parametrize("bad", ["https://tiles.example/osm.png", "tiles/{z}/{x}/{y}.png",
                                 "javascript:alert(1)//{z}{x}{y}"])
def test_a_tile_source_that_is_not_an_xyz_template_is_refused(tmp_path, capsys, bad) -> None:
    assert generate.main(["--out", str(tmp_path / "out"), "--tiles", bad]) == 2
    assert "{z}, {x} and {y}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    generate.build_all()
