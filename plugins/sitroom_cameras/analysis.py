"""What one analysed frame says: motion, light, focus, frozen picture, tamper, people, lanes.

`Analyzer.analyse()` runs in the daemon's worker pool (it is pure CPU work on numpy arrays)
and returns a plain `FrameReport`; the source writes metrics from it on the event loop. One
analyzer per camera holds the little state the measures need (previous frame, reference).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import cast

import cv2
import numpy as np

from sitroom_cameras import detector as det
from sitroom_cameras.boxes import merge_boxes
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.tamper import TamperJudge
from sitroom_cameras.tracker import Crossing, ObjectTracker, Track, foot
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
    detected: bool = False  # the detector ran on this frame (something moved)
    objects: list[Track] = field(default_factory=list)  # tracks visible now (full-res boxes)
    counts: dict[str, int] = field(default_factory=dict)  # class -> objects in the picture
    zone_objects: dict[str, dict[str, int]] = field(default_factory=dict)  # zone -> class -> n
    zone_dwell: dict[str, dict[int, float]] = field(default_factory=dict)  # zone -> track -> s
    crossings: list[Crossing] = field(default_factory=list)
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
        self.tracker = ObjectTracker(config.analysis.track_max_missed)
        self._detector: det.Detector | None = None
        self._occupancy: dict[str, float] = {}
        self._last_now: float | None = None
        self._scans = 0  # analysed frames the detector could have run on
        self._lock = threading.Lock()

    def detector(self) -> det.Detector:
        """The configured detector, loaded on first use (raises ModelMissing / ValueError)."""
        if self._detector is None:
            cfg = self.cfg
            width = cfg.people_width if cfg.detector == "hog" else cfg.input_width
            onnx = cfg.onnx_path()
            self._detector = det.build(
                f"onnx:{onnx}" if onnx is not None else cfg.detector, cfg.object_classes, width,
                cfg.confidence, cfg.class_confidence, cfg.nms, cfg.classes_file, cfg.runtime,
                cfg.precision)
        return self._detector

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
        self.snapshot = resize_to_width(view, min(cfg.snapshot_width, view.shape[1]))
        # a confirmed flat picture has nobody to find; any other reading, confirmed or not,
        # leaves detection on (a scene cut or a turned camera still sees a street)
        if cfg.people and self.tamper.confirmed_at(now) not in ("covered", "blinded"):
            self._objects(report, grey, full_size, cv2.bitwise_or(motion_mask, foreground), now)
        vehicles = self._vehicle_mask(report.objects, full_size, (w, h))
        dt = 0.0 if self._last_now is None else max(0.0, now - self._last_now)
        self._last_now = now
        for zm in masks:
            name = zm.zone.name
            if zm.area == 0:
                continue
            moving = cv2.countNonZero(cv2.bitwise_and(motion_mask, zm.mask))
            report.zone_motion[name] = moving / zm.area
            inside = [t for t in report.objects if contains(zm.polygon_full, *foot(t.box))]
            report.zone_people[name] = sum(1 for t in inside if t.cls == "person")
            report.zone_objects[name] = count_classes(inside, cfg.object_classes)
            # every live track, seen now or held through a missed detection, so a miss does
            # not restart anyone's dwell
            report.zone_dwell[name] = {t.id: t.dwell(name, now) for t in self.tracker.tracks
                                       if t.cls == "person" and name in t.zone_since}
            if zm.zone.type == "lane":
                report.occupancy[name] = self._lane_occupancy(zm, foreground, vehicles, dt)
        report.cpu_seconds = time.thread_time() - started
        return report

    def _objects(self, report: FrameReport, grey: np.ndarray, full_size: tuple[int, int],
                 mask: np.ndarray, now: float) -> None:
        """Detect where something moved, follow the objects, note zone entries and crossings.

        With no motion the detector does not run and the tracks hold as they are (a parked
        car or a person standing still stays counted, Frigate's stationary objects).
        """
        detector = self.detector()
        hog = isinstance(detector, det.HogDetector)
        # the network sees the picture at input_width: shrink the grey frame once (cheap row
        # skipping, one channel) rather than resizing every region from full resolution
        image = grey if hog or grey.shape[1] <= self.cfg.input_width else downscale(
            grey, self.cfg.input_width)
        rois = self._regions(mask, image.shape[1])
        every = self.cfg.full_frame_every
        whole = bool(every) and not hog and self._scans % every == 0
        if whole:
            rois = None  # a whole-picture pass now and then finds what never moved
        self._scans += 1
        if rois or whole:
            # where the detector looks: HOG around what moved, YOLO in the moving regions
            # grown to whole network cells (or everywhere when they cover most of the picture)
            looked: list[det.Box] | None = None
            if hog and not whole:
                found = cast("det.HogDetector", detector).detect_masked(image, mask)
                looked = rois
            elif isinstance(detector, det.DnnDetector) and not whole:
                looked = detector.regions(rois, (image.shape[1], image.shape[0]))
                found = detector.detect(image, looked)
            else:
                found = detector.detect(image, None)
            to_full = full_size[0] / image.shape[1]
            scanned = None if looked is None else [
                tuple(round(v * to_full) for v in r) for r in looked]
            if to_full != 1:
                found = [det.Detection(d.cls, d.score, tuple(round(v * to_full) for v in d.box))
                         for d in found]
            report.crossings = self.tracker.update(found, now, self.config.lines,
                                                   scanned)
            report.detected = True
        report.objects = self.tracker.visible()
        report.people = [t.box for t in report.objects if t.cls == "person"]
        report.counts = count_classes(report.objects, self.cfg.object_classes)
        zones = self.zones.masks  # built for this frame's size by the caller
        for track in report.objects:
            for zm in zones:
                name = zm.zone.name
                if contains(zm.polygon_full, *foot(track.box)):
                    track.zone_since.setdefault(name, now)
                else:
                    track.zone_since.pop(name, None)
            if track.score > track.best_score and track.last_seen == now:
                track.best_score, track.best_frame, track.best_box = (
                    track.score, self.snapshot, track.box)

    def _regions(self, mask: np.ndarray, width: int) -> list[det.Box] | None:
        """Boxes (at `width`) around what moved or differs from the reference; None: nothing."""
        if not cv2.countNonZero(mask):
            return None
        scale = width / mask.shape[1]
        grown = cv2.dilate(mask, np.ones((5, 5), np.uint8), iterations=2)
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
        boxes = []
        for i in range(1, count):
            x, y, bw, bh, area = (int(v) for v in stats[i])
            if area >= 4:  # padded: the network needs the whole object and some context
                pad_x, pad_y = max(2, bw // 4), max(2, bh // 4)
                boxes.append((int(max(0, x - pad_x) * scale), int(max(0, y - pad_y) * scale),
                              int((bw + 2 * pad_x) * scale), int((bh + 2 * pad_y) * scale)))
        return merge_boxes(boxes) or None

    @staticmethod
    def _vehicle_mask(objects: list[Track], full: tuple[int, int], small: tuple[int, int]
                      ) -> np.ndarray:
        mask = np.zeros((small[1], small[0]), dtype=np.uint8)
        sx, sy = small[0] / full[0], small[1] / full[1]
        for t in objects:
            if t.cls in det.VEHICLES:
                x, y, bw, bh = t.box
                cv2.rectangle(mask, (int(x * sx), int(y * sy)),
                              (int((x + bw) * sx), int((y + bh) * sy)), 255, -1)
        return mask

    def _lane_occupancy(self, zm, foreground: np.ndarray, vehicles: np.ndarray,
                        dt: float) -> float:
        """Share of the lane under vehicle boxes, smoothed over `occupancy_smoothing`.

        Without the detector (people: false) it falls back to the difference from the
        reference scene, which drifts as the reference learns (see the README)."""
        source = vehicles if self.cfg.people else foreground
        raw = cv2.countNonZero(cv2.bitwise_and(source, zm.mask)) / zm.area
        name = zm.zone.name
        tau = float(self.cfg.occupancy_smoothing)
        previous = self._occupancy.get(name)
        if previous is None or tau <= 0:
            value = raw
        else:
            value = previous + (1 - float(np.exp(-dt / tau))) * (raw - previous)
        self._occupancy[name] = value
        return value

    def _foreground(self, small: np.ndarray) -> np.ndarray:
        """What differs from the reference scene: parked queues, people standing still."""
        mean = self.reference.mean
        if mean is None or mean.shape != small.shape or self.reference.frames < 2:
            return np.zeros_like(small)
        diff = cv2.absdiff(small, mean.astype(np.uint8))
        _, mask = cv2.threshold(diff, self.cfg.motion_diff, 255, cv2.THRESH_BINARY)
        return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))


def count_classes(objects: list[Track], classes: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(classes, 0)
    for t in objects:
        if t.cls in counts:
            counts[t.cls] += 1
    return counts
