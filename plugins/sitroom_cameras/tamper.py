"""Tamper detection against a slowly updated reference scene.

Someone who covers, sprays, blinds or turns a camera changes the picture in ways ordinary
traffic does not: the texture vanishes (covered: flat picture; blinded: flat and white;
sprayed or defocused: edges gone, picture still varied) or the edges no longer line up with
the scene the camera usually sees (moved). The reference is an exponential moving average of
the picture with a time constant of minutes, so dusk and parked cars drift in but a sudden
change stands out; it stops learning while the camera looks tampered with, so an attack is
not absorbed as the new normal within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WARMUP_FRAMES = 3
FLAT_STD = 6.0  # grey levels: a lens cap or paint leaves almost no variation
CHANGE_MOVED = 0.6  # share of reference edges missing from the current picture
SHARPNESS_LOST = 0.25  # current sharpness below this share of the usual: defocused/sprayed
# the reference learns over minutes, so its edges change slowly: redraw them every few
# learned frames (and on each of the first few, while the reference is still forming)
EDGE_REFRESH = 5


@dataclass
class TamperReading:
    scene_change: float
    condition: str | None  # covered | blinded | defocused | moved | None


class ReferenceScene:
    """The slowly learned look of the scene, plus its usual sharpness."""

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        self.sharpness: float = 0.0
        self.frames = 0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def check(self, small: np.ndarray, sharpness: float, alpha: float) -> TamperReading:
        """Classify `small` (grey, blurred) against the reference, then learn from it."""
        if self.mean is None or self.mean.shape != small.shape:
            self.mean = small.astype(np.float32)
            self.sharpness = sharpness
            self.frames = 1
            self.edges = _edges(small)
            return TamperReading(0.0, None)
        edges = _edges(small)
        ref_edges = self.edges if self.edges is not None else edges
        ref_count = int(cv2.countNonZero(ref_edges))
        if ref_count:
            near = cv2.dilate(edges, np.ones((3, 3), np.uint8))
            kept = int(cv2.countNonZero(cv2.bitwise_and(ref_edges, near)))
            change = 1.0 - kept / ref_count
        else:
            change = 0.0
        condition = self._classify(small, sharpness, change)
        if condition is None:
            cv2.accumulateWeighted(small, self.mean, max(alpha, 1.0 / (self.frames + 1)))
            self.sharpness += (sharpness - self.sharpness) * max(alpha, 1.0 / (self.frames + 1))
            self.frames += 1
            if self.frames <= EDGE_REFRESH or self.frames % EDGE_REFRESH == 0:
                self.edges = _edges(self.mean.astype(np.uint8))
        return TamperReading(change, condition)

    def _classify(self, small: np.ndarray, sharpness: float, change: float) -> str | None:
        if self.frames < WARMUP_FRAMES:
            return None
        mean, std = cv2.meanStdDev(small)
        if float(std[0][0]) < FLAT_STD:
            return "blinded" if float(mean[0][0]) > 200 else "covered"
        if self.sharpness > 0 and sharpness < SHARPNESS_LOST * self.sharpness:
            return "defocused"
        if change > CHANGE_MOVED:
            return "moved"
        return None


def _edges(small: np.ndarray) -> np.ndarray:
    return cv2.Canny(small, 50, 150)
