"""What one analysed frame says: motion, light, focus, frozen picture, tamper, people, lanes.

`Analyzer.analyse()` runs in the daemon's worker pool (it is pure CPU work on numpy arrays)
and returns a plain `FrameReport`; the source writes metrics from it on the event loop. One
analyzer per camera holds the little state the measures need (previous frame, reference).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from sitroom_cameras import people
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.tamper import TamperJudge
from sitroom_cameras.zones import ZoneSet, contains


@dataclass
class FrameReport:
    full_size: tuple[int, int]
    motion: float
    brightness: float
    sharpness: float
    scene_change: float
    frozen_seconds: float
    tamper: str | None
    zone_motion: dict[str, float] = field(default_factory=dict)
    zone_people: dict[str, int] = field(default_factory=dict)
    occupancy: dict[str, float] = field(default_factory=dict)
    people: list[tuple[int, int, int, int]] = field(default_factory=list)  # full-res boxes
    cpu_seconds: float = 0.0


def resize_to_width(grey: np.ndarray, width: int, fast: bool = False) -> np.ndarray:
    """Scale to `width`, keeping the aspect ratio.

    Shrinking area-averages (every source pixel counts) unless `fast`: bilinear is ~4x
    cheaper and still weighs every source pixel while less than 2x remains to shrink.
    """
    h, w = grey.shape[:2]
    if w == width:
        return grey
    height = max(1, round(h * width / w))
    interp = cv2.INTER_AREA if width < w and not fast else cv2.INTER_LINEAR
    return cv2.resize(grey, (width, height), interpolation=interp)


def downscale(grey: np.ndarray, width: int) -> np.ndarray:
    """Shrink cheaply: keep every n-th row and column down to the target width or just
    above it (under 2x), then interpolate the rest of the way.

    Reading the picture is the cost: on a 1080p frame fresh from the decoder, averaging
    every other row (the old 2x-then-area path) took 0.8 ms, as much as the rest of the
    analysis; every 4th row and column takes 0.3 ms. Motion and tamper are measured after
    a Gaussian blur at 320 px, which averages the sensor noise that skipping keeps.
    """
    step = grey.shape[1] // width
    if step >= 2:
        grey = np.ascontiguousarray(grey[::step, ::step])
    # INTER_AREA is slow for the fractional factors left here (640 -> 480: 0.5 ms)
    return resize_to_width(grey, min(width, grey.shape[1]), fast=True)


def laplacian_variance(grey: np.ndarray) -> float:
    """Focus measure: variance of the Laplacian (16-bit is exact for 8-bit input, and
    3x cheaper than float64)."""
    _, std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_16S))
    return float(std[0][0]) ** 2


class Analyzer:
    """Per-camera analysis state; `analyse` must not be called concurrently for one camera."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.cfg = config.analysis
        self.zones = ZoneSet(config.zones)
        self.tamper = TamperJudge(self.cfg.tamper, float(self.cfg.tamper_after),
                                  float(self.cfg.reference_seconds))
        self.reference = self.tamper.reference
        self._prev: np.ndarray | None = None
        self._prev_raw: np.ndarray | None = None
        self._still_since: float | None = None
        self.snapshot: np.ndarray | None = None  # latest analysed frame, for the API only
        self._lock = threading.Lock()

    def analyse(self, grey: np.ndarray, full_size: tuple[int, int], now: float) -> FrameReport:
        """Analyse one grey frame (any size up to the camera's) taken from a `full_size` picture.

        Serialised per camera: a job left running in the pool by a cancelled run must not
        interleave with the next run's first frame (the state is not thread-safe).
        """
        with self._lock:
            return self._analyse(grey, full_size, now)

    def _analyse(self, grey: np.ndarray, full_size: tuple[int, int], now: float) -> FrameReport:
        started = time.thread_time()
        cfg = self.cfg
        view = downscale(grey, max(cfg.snapshot_width, cfg.width))
        raw = downscale(view, cfg.width)
        small = cv2.GaussianBlur(raw, (5, 5), 0)
        h, w = small.shape
        brightness = cv2.mean(small)[0] / 255.0
        sharpness = laplacian_variance(raw)

        if self._prev is None or self._prev_raw is None or self._prev.shape != small.shape:
            motion_mask = np.zeros_like(small)
            still = False
        else:
            diff = cv2.absdiff(small, self._prev)
            _, motion_mask = cv2.threshold(diff, cfg.motion_diff, 255, cv2.THRESH_BINARY)
            still = cv2.norm(raw, self._prev_raw, cv2.NORM_L1) / raw.size < cfg.frozen_diff
        self._prev, self._prev_raw = small, raw
        if still:
            self._still_since = self._still_since if self._still_since is not None else now
        else:
            self._still_since = None
        frozen_seconds = (now - self._still_since) if self._still_since is not None else 0.0
        motion = cv2.countNonZero(motion_mask) / float(w * h)

        alpha = min(1.0, float(self.config.analysis_interval) / float(cfg.reference_seconds))
        reading = self.tamper.check(small, raw, sharpness, alpha, motion, motion_mask, now)
        foreground = self._foreground(small)

        report = FrameReport(full_size, motion, brightness, sharpness, reading.scene_change,
                             frozen_seconds, reading.condition)
        masks = self.zones.for_size(full_size, (w, h))
        # a confirmed flat picture has nobody to find; any other reading, confirmed or not,
        # leaves people detection on (a turned camera still sees a street)
        if cfg.people and self.tamper.confirmed_at(now) not in ("covered", "blinded"):
            report.people = self._people(grey, full_size, cv2.bitwise_or(motion_mask, foreground))
        for zm in masks:
            name = zm.zone.name
            if zm.area == 0:
                continue
            moving = cv2.countNonZero(cv2.bitwise_and(motion_mask, zm.mask))
            report.zone_motion[name] = moving / zm.area
            report.zone_people[name] = sum(
                1 for x, y, bw, bh in report.people if contains(zm.polygon_full, x + bw / 2, y + bh)
            )
            if zm.zone.type == "lane":
                covered = cv2.countNonZero(cv2.bitwise_and(foreground, zm.mask))
                report.occupancy[name] = covered / zm.area
        self.snapshot = resize_to_width(view, min(cfg.snapshot_width, view.shape[1]))
        report.cpu_seconds = time.thread_time() - started
        return report

    def _foreground(self, small: np.ndarray) -> np.ndarray:
        """What differs from the reference scene: parked queues, people standing still."""
        mean = self.reference.mean
        if mean is None or mean.shape != small.shape or self.reference.frames < 2:
            return np.zeros_like(small)
        diff = cv2.absdiff(small, mean.astype(np.uint8))
        _, mask = cv2.threshold(diff, self.cfg.motion_diff, 255, cv2.THRESH_BINARY)
        return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))

    def _people(self, grey: np.ndarray, full_size: tuple[int, int], mask: np.ndarray
                ) -> list[tuple[int, int, int, int]]:
        if not cv2.countNonZero(mask):
            return []
        view = resize_to_width(grey, self.cfg.people_width)  # upscales small cameras
        scale = view.shape[1] / mask.shape[1]
        rois = people.regions(mask, scale, (view.shape[1], view.shape[0]))
        if not rois:
            return []
        to_full = full_size[0] / view.shape[1]
        return [
            (round(x * to_full), round(y * to_full), round(bw * to_full), round(bh * to_full))
            for x, y, bw, bh in people.detect(view, rois)
        ]
