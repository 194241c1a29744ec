"""Write grafana/dashboards/*.json from the board modules, or check that they are current.

    .venv/bin/python grafana/generate.py           # regenerate after editing a board
    .venv/bin/python grafana/generate.py --check   # exit 1 if the committed JSON drifted
    .venv/bin/python grafana/generate.py --tiles 'https://tiles.city/{z}/{x}/{y}.png' \
        --out /var/lib/grafana/dashboards/sitroom  # the map on the city's own tiles

The JSON is committed so that Grafana provisioning and `sitroom grafana push` need no Python
at deploy time, and so reviews show what changes on the wall.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "dashboards"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# file stem -> board module (grafana/dashgen/boards/<module>.py)
BOARDS = {
    "overview": "overview",
    "flood-pumps": "flood_pumps",
    "cameras": "cameras",
    "daemon": "daemon",
    "pembangunan": "projects",
    "lalu-lintas": "traffic",
    "sosial": "social",
}


def build_all(tiles: str = "", attribution: str = "") -> dict[str, dict[str, Any]]:
    """Every board; `tiles` chooses the map's base layer (dashgen.builders.use_map_tiles)."""
    from dashgen.builders import use_map_tiles

    use_map_tiles(tiles, attribution)
    boards = {}
    for stem, module in BOARDS.items():
        try:
            mod = importlib.import_module(f"dashgen.boards.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"dashgen.boards.{module}":
                raise
            continue  # not written yet
        boards[stem] = mod.build()
    return boards


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def drift(out: Path = OUT) -> list[str]:
    """Files that differ from what the generator makes now (missing, changed or stale)."""
    wanted = {f"{stem}.json": render(board) for stem, board in build_all().items()}
    problems = []
    for name, text in wanted.items():
        path = out / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: differs from the generator")
    for path in sorted(out.glob("*.json")):
        if path.name not in wanted:
            problems.append(f"{path.name}: no board module generates it")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--tiles", default=os.environ.get("SITROOM_MAP_TILES", ""),
        help="the city map's base layer: an XYZ URL template ({z}/{x}/{y}), 'none' for a "
             "plain background, or empty for Grafana's default basemap (default: "
             "$SITROOM_MAP_TILES); the committed boards use the default")
    parser.add_argument("--tiles-attribution",
                        default=os.environ.get("SITROOM_MAP_ATTRIBUTION", ""),
                        help="attribution text shown under your tiles")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift(args.out)
        for line in problems:
            print(f"drift: {line}", file=sys.stderr)
        if problems:
            print("run: .venv/bin/python grafana/generate.py", file=sys.stderr)
        return 1 if problems else 0
    try:
        boards = build_all(args.tiles, args.tiles_attribution)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for stem, board in boards.items():
        (args.out / f"{stem}.json").write_text(render(board), encoding="utf-8")
    for path in args.out.glob("*.json"):
        if path.stem not in boards:
            path.unlink()
    print(f"wrote {len(boards)} dashboards to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
