"""Tamper detection: a lens covered, blinded, sprayed or defocused, or a camera turned away.

The picture is compared with a slowly learned reference scene. A reading counts only on a
settled view (the picture consistent with the previous analysis: no cut, pan or bus in
mid-passage), and `Rules` raises the event once the same reading has held `tamper_after`,
so what fires is a changed view that stays changed, never one odd frame.

- covered / blinded: the picture is flat (almost no grey-level variation), dark or white.
- defocused (sprayed, turned out of focus): the sharpness fell far below the reference's
  while the coarse layout of the picture is still the reference's: the same scene, blurred.
- moved: most of the reference's edges are gone and the new view cannot be found in the
  reference by feature matching (ORB): the camera looks at something it did not see before.
  A view that registers to the reference as a pan or zoom (a PTZ move, a cut to another
  preset of the same scene) is followed instead: the reference is re-taken from it. A view
  that registers in place (a bus or a crowd hiding part of it) is the same view.

The reference learns (only where nothing moved) while no reading holds, so an attack is not
absorbed as the new normal within seconds; a camera turned for good becomes the new normal
after `reference_seconds`. Feature matching runs only when the view has changed, so its
~2-4 ms fall on cuts and moves, not on every frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from sitroom_cameras.config import TamperConfig

WARMUP_FRAMES = 3
BLINDED_MEAN = 200  # a flat picture brighter than this is blinded, darker is covered
# a flat picture is covered/blinded only if the scene was not itself that flat (a dark
# street at night with no light can be as flat as a lens cap): under this share of the
# reference's deviation
FLAT_OF_USUAL = 0.5
# the reference learns over minutes, so its edges change slowly: redraw them every few
# learned frames (and on each of the first few, while the reference is still forming)
EDGE_REFRESH = 5
LAYOUT_SIZE = (32, 24)  # the coarse picture compared to tell a blurred scene from another
SAME_LAYOUT = 0.6  # correlation of the coarse pictures: the same scene (blurred or not)
FOREIGN_KEPT = 0.5  # share of a new view's edges still there: the view has not changed again
# feature matching: a view found in the reference needs this many consistent matches, a
# rotation a pan/tilt/zoom head cannot make is no move of this camera, and within these
# bounds the match is the reference itself
MIN_INLIERS = 10
MAX_ROLL_DEGREES = 5.0
SCALE_RANGE = (0.2, 5.0)
SAME_SCALE, SAME_SHIFT = 0.03, 2.0  # relative, pixels at the analysis width
# a zoom onto a smooth part of the scene (a road) has too few features to match: the coarse
# pictures are searched for each other at these zoom factors instead (a view 1.5x or 2x
# closer, or farther), and found at this correlation
ZOOM_SEARCH_WIDTH = 160
ZOOM_FACTORS = (1.5, 2.0)
ZOOM_FOUND = 0.76


@dataclass
class TamperReading:
    scene_change: float  # share of reference edges missing now
    condition: str | None  # covered | blinded | defocused | moved | None, on a settled view
    view: str  # learning | same | followed | foreign | flat | blurred | off


@dataclass
class ViewMove:
    """Where the current view lies in the reference (a similarity transform)."""

    inliers: int
    scale: float
    roll: float  # degrees
    shift: float  # pixels

    @property
    def in_place(self) -> bool:
        return abs(self.scale - 1.0) < SAME_SCALE and self.shift < SAME_SHIFT

    @property
    def camera_move(self) -> bool:
        """A pan, tilt or zoom: no roll, a plausible zoom factor."""
        return abs(self.roll) <= MAX_ROLL_DEGREES and SCALE_RANGE[0] <= self.scale <= SCALE_RANGE[1]


class ViewMatcher:
    """Finds the current view inside a reference picture with ORB features and RANSAC."""

    def __init__(self) -> None:
        self.orb = cv2.ORB.create(nfeatures=500, fastThreshold=10, edgeThreshold=15,
                                  patchSize=15)
        self.matcher = cv2.BFMatcher(cv2.NORM_HAMMING)

    def features(self, grey: np.ndarray) -> tuple[list[cv2.KeyPoint], np.ndarray | None]:
        keypoints, descriptors = self.orb.detectAndCompute(grey, None)
        return list(keypoints), descriptors

    def locate(self, reference: tuple[list[cv2.KeyPoint], np.ndarray | None], grey: np.ndarray
               ) -> ViewMove | None:
        """The move from `reference` (its features) to `grey`, or None when not found."""
        ref_points, ref_desc = reference
        points, desc = self.features(grey)
        if ref_desc is None or desc is None or len(points) < MIN_INLIERS:
            return None
        pairs = self.matcher.knnMatch(desc, ref_desc, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(good) < MIN_INLIERS:
            return None
        src = np.array([points[m.queryIdx].pt for m in good], np.float32)
        dst = np.array([ref_points[m.trainIdx].pt for m in good], np.float32)
        matrix, inliers = cv2.estimateAffinePartial2D(src, dst, ransacReprojThreshold=3.0)
        if matrix is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
            return None
        a, b = float(matrix[0, 0]), float(matrix[1, 0])
        return ViewMove(int(inliers.sum()), math.hypot(a, b), math.degrees(math.atan2(b, a)),
                        math.hypot(float(matrix[0, 2]), float(matrix[1, 2])))


def found_zoomed(reference: np.ndarray, view: np.ndarray) -> bool:
    """Is `view` a 1.5x/2x zoom into `reference`, or `reference` one into `view`?

    Normalised cross-correlation of the coarse pictures (160 px wide, ~2 ms for all
    factors): zoomed views of the same scene correlate at 0.77-0.97 on vtest, a mirrored or
    upside-down view at 0.33-0.5."""
    def coarse(grey: np.ndarray) -> np.ndarray:
        height = max(1, round(grey.shape[0] * ZOOM_SEARCH_WIDTH / grey.shape[1]))
        return cv2.resize(grey, (ZOOM_SEARCH_WIDTH, height), interpolation=cv2.INTER_AREA)

    ref, now = coarse(reference), coarse(view)
    for factor in ZOOM_FACTORS:
        for scene, part in ((ref, now), (now, ref)):
            template = cv2.resize(part, None, fx=1 / factor, fy=1 / factor,
                                  interpolation=cv2.INTER_AREA)
            if float(template.std()) < 1.0:
                continue  # a flat template matches anything
            score = cv2.matchTemplate(scene, template, cv2.TM_CCOEFF_NORMED)
            if float(score.max()) >= ZOOM_FOUND:
                return True
    return False


class ReferenceScene:
    """The slowly learned look of the scene, its edges, its usual sharpness, and a recent
    unblurred picture of it (the anchor features are matched against)."""

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        self.anchor: np.ndarray | None = None
        self.sharpness: float = 0.0
        self.deviation: float = 0.0  # grey-level standard deviation of the mean picture
        self.frames = 0
        self._features: tuple[list[cv2.KeyPoint], np.ndarray | None] | None = None

    def start(self, small: np.ndarray, raw: np.ndarray, sharpness: float) -> None:
        """Begin again from this picture (first frame, a followed move, a new normal)."""
        self.mean = small.astype(np.float32)
        self.sharpness = sharpness
        self.frames = 1
        self.edges = edges_of(small)
        self.deviation = float(cv2.meanStdDev(small)[1][0][0])
        self._anchor(raw)

    def learn(self, small: np.ndarray, raw: np.ndarray, sharpness: float, alpha: float,
              still: np.ndarray | None) -> None:
        """Blend the picture in where nothing moved (`still` mask)."""
        assert self.mean is not None
        rate = max(alpha, 1.0 / (self.frames + 1))
        cv2.accumulateWeighted(small, self.mean, rate, mask=still)
        self.sharpness += (sharpness - self.sharpness) * rate
        self.frames += 1
        if self.frames <= EDGE_REFRESH or self.frames % EDGE_REFRESH == 0:
            picture = self.mean.astype(np.uint8)
            self.edges = edges_of(picture)
            self.deviation = float(cv2.meanStdDev(picture)[1][0][0])
            self._anchor(raw)

    def _anchor(self, raw: np.ndarray) -> None:
        self.anchor = raw.copy()
        self._features = None

    def features(self, matcher: ViewMatcher) -> tuple[list[cv2.KeyPoint], np.ndarray | None]:
        """The anchor's features, computed once per anchor (only when a view is checked)."""
        if self._features is None:
            assert self.anchor is not None
            self._features = matcher.features(self.anchor)
        return self._features

    def same_layout(self, small: np.ndarray) -> bool:
        """Is the coarse picture the reference's (contrast and blur do not matter)?"""
        assert self.mean is not None
        now = cv2.resize(small, LAYOUT_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        ref = cv2.resize(self.mean, LAYOUT_SIZE, interpolation=cv2.INTER_AREA)
        if float(now.std()) < 1e-3 or float(ref.std()) < 1e-3:
            return False
        return float(cv2.matchTemplate(now, ref, cv2.TM_CCOEFF_NORMED)[0][0]) >= SAME_LAYOUT


class TamperJudge:
    """Per-camera tamper state: the reference, the reading and since when it holds."""

    def __init__(self, cfg: TamperConfig, tamper_after: float, reference_seconds: float) -> None:
        self.cfg = cfg
        self.tamper_after = tamper_after
        self.reference_seconds = reference_seconds
        self.reference = ReferenceScene()
        self.matcher = ViewMatcher()
        self.condition: str | None = None  # the reading reported last
        self.since: float | None = None  # since when it has been reported
        self._foreign: np.ndarray | None = None  # edges of the unknown view now in front
        self._formed = False  # the first reference has seen WARMUP_FRAMES pictures

    def confirmed_at(self, now: float) -> str | None:
        """The reading once it has held `tamper_after` (when the tamper event fires)."""
        if self.condition is None or self.since is None or now - self.since < self.tamper_after:
            return None
        return self.condition

    def check(self, small: np.ndarray, raw: np.ndarray, sharpness: float, alpha: float,
              motion: float, motion_mask: np.ndarray, now: float) -> TamperReading:
        """Judge `small` (grey, blurred; `raw` unblurred) against the reference, then learn."""
        ref = self.reference
        if ref.mean is None or ref.mean.shape != small.shape:
            ref.start(small, raw, sharpness)
            self._formed = False
            self._report(None, now)
            return TamperReading(0.0, None, "learning")
        edges = edges_of(small)
        change = edge_change(ref.edges, edges)
        settled = motion <= self.cfg.settled_motion
        if ref.frames >= WARMUP_FRAMES:
            self._formed = True  # from now on a followed move keeps judging at once
        if not self.cfg.enabled or not self._formed:
            ref.learn(small, raw, sharpness, alpha, cv2.bitwise_not(motion_mask))
            self._report(None, now)
            return TamperReading(change, None, "learning" if self.cfg.enabled else "off")
        evidence, view = self._evidence(small, raw, sharpness, change, edges)
        # mid-cut, mid-pan, a bus passing (much of the picture moving): no new reading counts;
        # a confirmed one stays (an alert must not flicker while someone fiddles), unless the
        # view is found in the reference again
        known = view in ("same", "followed")
        held = self.condition if self.confirmed_at(now) and not known else None
        self._report(evidence if settled else held, now)
        if (self.condition == "moved" and self.since is not None
                and now - self.since > self.reference_seconds):
            ref.start(small, raw, sharpness)  # turned for good: the new normal
            self._foreign = None
            self._report(None, now)
        elif view == "followed":
            ref.start(small, raw, sharpness)
        elif evidence is None and self.condition is None and (
                change <= self.cfg.view_change or view == "same"):
            ref.learn(small, raw, sharpness, alpha, cv2.bitwise_not(motion_mask))
        return TamperReading(change, self.condition, view)

    def _report(self, condition: str | None, now: float) -> None:
        if condition != self.condition:
            self.condition, self.since = condition, (now if condition is not None else None)

    def _evidence(self, small: np.ndarray, raw: np.ndarray, sharpness: float, change: float,
                  edges: np.ndarray) -> tuple[str | None, str]:
        """What this picture alone says (kinds switched off say nothing), and the view."""
        ref, kinds = self.reference, self.cfg.kinds
        mean, std = cv2.meanStdDev(small)
        deviation = float(std[0][0])
        if deviation < self.cfg.flat_std and deviation < FLAT_OF_USUAL * ref.deviation:
            kind = "blinded" if float(mean[0][0]) > BLINDED_MEAN else "covered"
            return (kind if kind in kinds else None), "flat"
        blurred = ref.sharpness > 0 and sharpness < self.cfg.sharpness_lost * ref.sharpness
        if blurred and ref.same_layout(small):
            return ("defocused" if "defocused" in kinds else None), "blurred"
        if change <= self.cfg.view_change and not blurred:
            self._foreign = None
            return None, "same"
        # the view changed: is it still the unknown view of the last analyses?
        if self._foreign is not None and edge_change(self._foreign, edges) <= FOREIGN_KEPT:
            return ("moved" if "moved" in kinds else None), "foreign"
        move = self.matcher.locate(ref.features(self.matcher), raw)
        if move is not None and move.in_place:
            self._foreign = None
            return None, "same"  # partly hidden or lit differently: the same view
        if self.cfg.follow_moves and (
                (move is not None and move.camera_move)
                or (ref.mean is not None and found_zoomed(ref.mean.astype(np.uint8), small))):
            self._foreign = None
            return None, "followed"
        if "moved" not in kinds:  # views switched on purpose (a tour): each is the new normal
            return None, "followed"
        self._foreign = edges
        return "moved", "foreign"


def edges_of(small: np.ndarray) -> np.ndarray:
    return cv2.Canny(small, 50, 150)


def edge_change(reference: np.ndarray | None, edges: np.ndarray) -> float:
    """Share of the reference's edges with no edge of `edges` within a pixel."""
    if reference is None:
        return 0.0
    count = int(cv2.countNonZero(reference))
    if not count:
        return 0.0
    near = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    return 1.0 - int(cv2.countNonZero(cv2.bitwise_and(reference, near))) / count
