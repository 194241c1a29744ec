"""People detection with OpenCV 4.x's HOG + linear SVM pedestrian detector.

HOG is the expensive part of the analysis (~80 ms for a 768x576 frame on one core), so it
runs only on the regions where something moved or differs from the reference scene: an empty
street costs nothing, and a person standing still stays found until the reference absorbs
them. OpenCV 5 dropped the HOG detector; opencv-python-headless is pinned below 5.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from sitroom_cameras.boxes import Box, merge_boxes

WINDOW = (64, 128)  # the default people detector's window (w, h)
MIN_WEIGHT = 0.3
_local = threading.local()


def _hog() -> cv2.HOGDescriptor:
    """One descriptor per worker thread: detectMultiScale keeps scratch state."""
    hog = getattr(_local, "hog", None)
    if hog is None:
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
        _local.hog = hog
    return hog


def regions(mask: np.ndarray, scale: float, limit: tuple[int, int]) -> list[Box]:
    """Boxes (x, y, w, h) at detector scale around the blobs of a small foreground mask.

    Boxes are padded to hold at least one detector window and merged when they overlap, so
    a crowd becomes one region rather than many overlapping scans.
    """
    grown = cv2.dilate(mask, np.ones((5, 5), np.uint8), iterations=2)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    boxes: list[list[int]] = []
    width, height = limit
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < 4:
            continue
        x0, y0 = int(x * scale) - 16, int(y * scale) - 32
        x1, y1 = int((x + w) * scale) + 16, int((y + h) * scale) + 32
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        half_w = max((x1 - x0) // 2, WINDOW[0] // 2 + 8)
        half_h = max((y1 - y0) // 2, WINDOW[1] // 2 + 8)
        boxes.append([max(0, cx - half_w), max(0, cy - half_h),
                      min(width, cx + half_w), min(height, cy + half_h)])
    return [(x, y, w, h) for x, y, w, h in merge_boxes(
        [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes])
        if w >= WINDOW[0] and h >= WINDOW[1]]


def detect(image: np.ndarray, rois: list[tuple[int, int, int, int]] | None = None
           ) -> list[tuple[int, int, int, int]]:
    """Person boxes (x, y, w, h) in `image` coordinates; `rois` limits the search."""
    hog = _hog()
    found: list[list[int]] = []
    scores: list[float] = []
    areas = rois if rois is not None else [(0, 0, image.shape[1], image.shape[0])]
    for x, y, w, h in areas:
        crop = image[y:y + h, x:x + w]
        if crop.shape[0] < WINDOW[1] or crop.shape[1] < WINDOW[0]:
            continue
        rects, weights = hog.detectMultiScale(crop, winStride=(8, 8), padding=(8, 8), scale=1.1)
        for (rx, ry, rw, rh), weight in zip(rects, np.ravel(weights), strict=False):
            if weight >= MIN_WEIGHT:
                found.append([int(rx + x), int(ry + y), int(rw), int(rh)])
                scores.append(float(weight))
    if len(found) < 2:
        return [(b[0], b[1], b[2], b[3]) for b in found]
    keep = cv2.dnn.NMSBoxes(found, scores, MIN_WEIGHT, 0.4)
    return [(b[0], b[1], b[2], b[3]) for b in (found[int(i)] for i in np.ravel(keep))]
