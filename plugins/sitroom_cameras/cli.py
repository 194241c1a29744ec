"""`sitroom analyse VIDEO [--config camera.yaml] [--every 1s] --json`: one camera, offline.

Runs the camera's whole analysis chain (`CameraAnalysis`: motion, tamper, detector, tracker,
zones, lines, rules) on a video file, one frame per `--every` seconds of footage, with the
footage's own clock, exactly as the daemon chains it, and prints one JSON line per analysed
frame. Operators use it to tune zones, lines and thresholds on recorded footage; the tests
and benchmarks use it too. Local time for schedules: `--start` plus the footage time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import numpy as np
import yaml
from pydantic import ValidationError

from sitroom.api import parse_duration


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyse", help="run one camera's analysis offline on a video file (JSON lines)")
    parser.add_argument("video", help="a video file (anything FFmpeg reads)")
    parser.add_argument("--config", help="YAML: one camera source (or sources: [...], the first "
                                         "camera, or the one named by --camera)")
    parser.add_argument("--camera", help="which camera of a sources list")
    parser.add_argument("--every", default="1s", help="footage time between analysed frames")
    parser.add_argument("--start", help="local time the footage starts (ISO 8601; default now)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line (default)")
    parser.set_defaults(func=run)


def load_camera(path: str | None, camera: str | None, video: Path) -> Any:
    """The camera config from a YAML file (its input replaced by the video)."""
    from sitroom_cameras.config import CameraConfig

    raw: dict[str, Any] = {"kind": "camera", "name": "analyse"}
    if path is not None:
        data = yaml.safe_load(Path(path).read_text()) or {}
        if "sources" in data:
            cams = [s for s in data["sources"] if s.get("kind") == "camera"]
            if camera is not None:
                cams = [s for s in cams if s.get("name") == camera]
            if not cams:
                raise ValueError(f"{path}: no camera source{f' named {camera}' if camera else ''}")
            data = cams[0]
        raw.update(data)
    for key in ("url", "transport", "password_file", "username", "password", "pin_address"):
        raw.pop(key, None)
    raw["path"] = str(video.resolve())
    return CameraConfig.model_validate(raw)


def frames(video: Path, every: float) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index in decode order, seconds, grey luma) one per `every` seconds of footage."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        base = float(stream.time_base) if stream.time_base else 0.0
        rate = float(stream.average_rate or 25)
        due: float | None = None
        for index, frame in enumerate(container.decode(stream)):
            t = frame.pts * base if frame.pts is not None and base else index / rate
            if due is None:
                due = t
            if t + 1e-6 < due:
                continue
            while due <= t + 1e-6:
                due += every
            yield index, round(t, 3), frame.to_ndarray(format="gray")


def analyse(config: Any, video: Path, every: float, start: datetime) -> Iterator[dict[str, Any]]:
    from sitroom_cameras.pipeline import CameraAnalysis

    chain = CameraAnalysis(config)
    if config.analysis.people:
        chain.analyzer.detector()  # a missing model fails here, before any output
    for index, t, grey in frames(video, every):
        report = chain.analyse(grey, (grey.shape[1], grey.shape[0]), t)
        step = chain.evaluate(report, t, start + timedelta(seconds=t))
        lines: dict[str, dict[str, int]] = {}
        for c in report.crossings:
            key = f"{c.cls}:{c.direction}"
            lines.setdefault(c.line, {})[key] = lines.get(c.line, {}).get(key, 0) + 1
        yield {
            "frame": index, "t": t, "people": len(report.people),
            "objects": {k: v for k, v in report.counts.items() if v},
            "zones": {name: {"objects": {k: v for k, v in report.zone_objects.get(name, {}).items()
                                         if v},
                             "motion": round(report.zone_motion.get(name, 0.0), 4),
                             "presence": step.presence.get(name, False),
                             "dwell": round(chain.rules.dwell(name, t), 1),
                             **({"occupancy": round(report.occupancy[name], 4)}
                                if name in report.occupancy else {})}
                      for name in (z.name for z in config.zones)},
            "lines": lines,
            "tamper": report.tamper,
            "events": [e.as_dict() for e in step.events],
        }


def run(args: argparse.Namespace) -> int:
    from sitroom_cameras.models import ModelMissing

    video = Path(args.video)
    if not video.is_file():
        print(f"error: {video}: no such file", file=sys.stderr)
        return 2
    try:
        every = parse_duration(args.every)
        config = load_camera(args.config, args.camera, video)
        zone = ZoneInfo(config.timezone)
        start = (datetime.fromisoformat(args.start).replace(tzinfo=zone) if args.start
                 else datetime.now(zone))
        for line in analyse(config, video, every, start):
            print(json.dumps(line, separators=(",", ":")), flush=True)
    except ValidationError as exc:
        print(f"error: camera config: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader (head, a pager) has had enough
        return 0
    except (ModelMissing, ValueError, OSError, av.error.FFmpegError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
