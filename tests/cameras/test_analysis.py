"""Analysis on real street footage (OpenCV's vtest.avi): people, motion, zones, tamper, frozen.

Frames are read from the real clip at 1 frame per second of footage and fed to the same
Analyzer and Rules the camera source uses, with the clip's own timestamps, so the tests are
deterministic and need no waiting.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from sitroom_cameras.analysis import FrameReport
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.pipeline import CameraAnalysis, CameraEvent

FULL = (768, 576)
WALKWAY = [[0, 150], [768, 150], [768, 330], [0, 330]]
LAWN = [[0, 400], [380, 400], [380, 576], [0, 576]]


def config(**analysis: object) -> CameraConfig:
    return CameraConfig.model_validate({
        "kind": "camera", "name": "vtest", "path": "/dev/null",
        "analysis": {"frozen_after": 3, "tamper_after": 2, **analysis},
        "zones": [
            {"name": "walkway", "polygon": WALKWAY, "presence": "people",
             "restricted": [{"start": "00:00", "end": "23:59"}], "loiter_after": 4},
            {"name": "lawn", "polygon": LAWN, "presence": "people",
             "restricted": [{"start": "00:00", "end": "23:59"}]},
        ],
    })


def footage(vtest: Path, every: int = 10, limit: int = 25) -> list[np.ndarray]:
    """Grey frames one second apart (the clip runs at 10 fps)."""
    capture = cv2.VideoCapture(str(vtest))
    frames, index = [], 0
    while len(frames) < limit:
        ok, bgr = capture.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
        index += 1
    capture.release()
    assert frames, "could not read the footage"
    return frames


class Pipeline:
    """The camera source's own analysis chain (CameraAnalysis), at one frame per second."""

    def __init__(self, cfg: CameraConfig) -> None:
        self.cfg = cfg
        self.chain = CameraAnalysis(cfg)
        self.analyzer = self.chain.analyzer
        self.rules = self.chain.rules
        self.t = 0.0
        self.events: list[tuple[str, str]] = []
        self.fired: list[CameraEvent] = []
        self.reports: list[FrameReport] = []

    def feed(self, grey: np.ndarray) -> FrameReport:
        self.t += 1.0
        report = self.chain.analyse(grey, (grey.shape[1], grey.shape[0]), self.t)
        step = self.chain.evaluate(report, self.t, datetime(2026, 1, 5, 23, 0))
        self.fired += step.events
        self.events += [(e.zone, e.rule) for e in step.events]
        self.reports.append(report)
        return report


@pytest.fixture(scope="module")
def street(vtest: Path) -> tuple[Pipeline, list[np.ndarray]]:
    frames = footage(vtest)
    pipe = Pipeline(config())
    for grey in frames:
        pipe.feed(grey)
    return pipe, frames


def test_people_are_counted_while_people_walk(street) -> None:  # type: ignore[no-untyped-def]
    pipe, _ = street
    counts = [len(r.people) for r in pipe.reports[2:]]
    # the clip shows two to six pedestrians most of the time
    assert sum(1 for c in counts if c > 0) >= 0.7 * len(counts), counts
    assert 1.5 <= sum(counts) / len(counts) <= 8, counts
    assert max(counts) <= 12, counts


def test_people_and_motion_are_on_the_walkway_not_the_lawn(street) -> None:  # type: ignore[no-untyped-def]
    pipe, _ = street
    reports = pipe.reports[2:]
    walkway_people = sum(r.zone_people["walkway"] for r in reports)
    lawn_people = sum(r.zone_people["lawn"] for r in reports)
    assert walkway_people > 3 * max(lawn_people, 1), (walkway_people, lawn_people)
    walkway_motion = np.mean([r.zone_motion["walkway"] for r in reports])
    lawn_motion = np.mean([r.zone_motion["lawn"] for r in reports])
    assert walkway_motion > 5 * lawn_motion + 1e-4, (walkway_motion, lawn_motion)


def test_motion_follows_the_walkers(street) -> None:  # type: ignore[no-untyped-def]
    """Motion is denser inside detected person boxes than in the picture as a whole."""
    pipe, frames = street
    inside, overall = [], []
    previous = None
    for grey, report in zip(frames, pipe.reports, strict=True):
        if previous is not None and report.people:
            diff = cv2.absdiff(cv2.GaussianBlur(grey, (5, 5), 0),
                               cv2.GaussianBlur(previous, (5, 5), 0)) > 20
            box_mask = np.zeros_like(diff)
            for x, y, w, h in report.people:
                box_mask[y:y + h, x:x + w] = True
            inside.append(diff[box_mask].mean())
            overall.append(diff.mean())
        previous = grey
    assert len(inside) >= 10
    assert np.mean(inside) > 4 * np.mean(overall), (np.mean(inside), np.mean(overall))
    assert all(0 < r.motion < 0.3 for r in pipe.reports[2:])


def test_zone_rules_fire_for_people_in_the_drawn_zone(street) -> None:  # type: ignore[no-untyped-def]
    pipe, _ = street
    assert ("walkway", "suspicious_activity") in pipe.events
    assert ("walkway", "loitering") in pipe.events
    assert ("lawn", "loitering") not in pipe.events
    assert not [e for e in pipe.events if e[1].startswith("tamper_") or e[1] == "frozen"]


def test_a_still_picture_raises_frozen(vtest: Path) -> None:
    frames = footage(vtest, limit=8)
    pipe = Pipeline(config(people=False))
    for grey in frames:
        pipe.feed(grey)
    assert ("", "frozen") not in pipe.events
    for _ in range(5):
        pipe.feed(frames[-1].copy())
    assert ("", "frozen") in pipe.events
    assert pipe.rules.active()[("", "frozen")]
    pipe.feed(frames[0])  # the picture moves again
    assert not pipe.rules.active()[("", "frozen")]


@pytest.mark.parametrize(
    ("paint", "expected"),
    [
        (lambda g: np.zeros_like(g), "covered"),  # lens cap / black paint
        (lambda g: np.full_like(g, 250), "blinded"),  # torch or laser into the lens
        (lambda g: cv2.GaussianBlur(g, (0, 0), 9), "defocused"),  # sprayed or turned focus
        (lambda g: np.ascontiguousarray(g[::-1, ::-1]), "moved"),  # pointed elsewhere
    ],
)
def test_tampering_is_recognised(vtest: Path, paint, expected: str) -> None:  # type: ignore[no-untyped-def]
    frames = footage(vtest, limit=14)
    pipe = Pipeline(config(people=False))
    for grey in frames[:8]:
        pipe.feed(grey)
    for grey in frames[8:]:
        pipe.feed(paint(grey))
    tamper = [rule for zone, rule in pipe.events if rule.startswith("tamper_")]
    assert tamper == [f"tamper_{expected}"], (tamper, [r.tamper for r in pipe.reports])


# -- a 1080p-class camera: the analysis skips rows and columns before averaging ----------

SCALE = 2.5  # 768x576 -> 1920x1440, a 4:3 camera as wide as a 1080p one


def upscaled(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [cv2.resize(g, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
            for g in frames]


def scaled_config(**analysis: object) -> CameraConfig:
    cfg = config(**analysis).model_dump()
    for zone in cfg["zones"]:
        zone["polygon"] = [[x * SCALE, y * SCALE] for x, y in zone["polygon"]]
    return CameraConfig.model_validate(cfg)


def test_a_full_hd_camera_sees_motion_where_people_walk(vtest: Path) -> None:
    frames = footage(vtest, limit=12)
    small, large = Pipeline(config(people=False)), Pipeline(scaled_config(people=False))
    for grey, big in zip(frames, upscaled(frames), strict=True):
        small.feed(grey)
        large.feed(big)
    reports = large.reports[2:]
    walkway = np.mean([r.zone_motion["walkway"] for r in reports])
    lawn = np.mean([r.zone_motion["lawn"] for r in reports])
    assert walkway > 5 * lawn + 1e-4, (walkway, lawn)
    # the same scene measures about the same at either resolution
    for a, b in zip(small.reports[2:], reports, strict=True):
        assert abs(a.motion - b.motion) <= 0.5 * max(a.motion, b.motion) + 0.002, (a, b)
        assert abs(a.brightness - b.brightness) < 0.02
    assert large.analyzer.snapshot is not None
    assert large.analyzer.snapshot.shape == (360, 480)
    assert not [e for e in large.events if e[1].startswith("tamper_") or e[1] == "frozen"]


@pytest.mark.parametrize(
    ("paint", "expected"),
    [
        (lambda g: np.zeros_like(g), "covered"),
        (lambda g: cv2.GaussianBlur(g, (0, 0), 20), "defocused"),
        (lambda g: np.ascontiguousarray(g[::-1, ::-1]), "moved"),
    ],
)
def test_a_full_hd_camera_recognises_tampering(vtest: Path, paint, expected: str) -> None:  # type: ignore[no-untyped-def]
    frames = upscaled(footage(vtest, limit=14))
    pipe = Pipeline(scaled_config(people=False))
    for grey in frames[:8]:
        pipe.feed(grey)
    for grey in frames[8:]:
        pipe.feed(paint(grey))
    tamper = [rule for zone, rule in pipe.events if rule.startswith("tamper_")]
    assert tamper == [f"tamper_{expected}"], (tamper, [r.tamper for r in pipe.reports])


@pytest.mark.parametrize(("size", "width", "expected"), [
    ((1920, 1080), 480, (270, 480)),  # every 4th pixel, nothing else
    ((1280, 720), 480, (270, 480)),  # every 2nd pixel, then interpolated 640 -> 480
    ((768, 576), 480, (360, 480)),  # interpolated only
    ((320, 240), 480, (240, 320)),  # never enlarged
])
def test_downscale_keeps_the_picture_and_its_aspect(size, width, expected) -> None:  # type: ignore[no-untyped-def]
    from sitroom_cameras.analysis import downscale

    w, h = size
    grey = np.zeros((h, w), np.uint8)
    grey[h // 4:h // 2, w // 2:3 * w // 4] = 200  # a bright block in the upper right
    out = downscale(grey, width)
    assert out.shape == expected
    assert out.flags.c_contiguous
    oh, ow = out.shape
    assert out[3 * oh // 8, 5 * ow // 8] == 200  # the block's centre is still bright
    assert out[3 * oh // 4, ow // 4] == 0  # and the rest still dark


def test_laplacian_variance_matches_the_float_definition() -> None:
    from sitroom_cameras.analysis import laplacian_variance

    rng = np.random.default_rng(7)
    grey = rng.integers(0, 256, (180, 320), dtype=np.uint8)  # worst case: full-range noise
    kernel = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float64)
    reference = cv2.filter2D(grey.astype(np.float64), -1, kernel,
                             borderType=cv2.BORDER_REFLECT_101).var()
    assert laplacian_variance(grey) == pytest.approx(reference, rel=1e-9)
