"""Zone polygons, scaled from the camera's full-resolution coordinates to each working size.

Operators draw zones on a full-size still; the analysis runs on a small frame. Masks are
built once per (zone set, frame size) and cached, since a camera's resolution rarely changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sitroom_cameras.config import ZoneConfig


@dataclass
class ZoneMask:
    zone: ZoneConfig
    mask: np.ndarray  # uint8 0/255 at the analysis size
    area: int
    polygon_full: np.ndarray  # float32 (N, 2) in full-resolution pixels


class ZoneSet:
    """The masks of a camera's zones for one (full size, analysis size) pair."""

    def __init__(self, zones: list[ZoneConfig]) -> None:
        self.zones = zones
        self._key: tuple[int, int, int, int] | None = None
        self.masks: list[ZoneMask] = []

    def for_size(self, full: tuple[int, int], small: tuple[int, int]) -> list[ZoneMask]:
        """Masks for a frame of `small` (w, h) taken from a picture of `full` (w, h)."""
        key = (*full, *small)
        if key != self._key:
            self.masks = [self._build(z, full, small) for z in self.zones]
            self._key = key
        return self.masks

    @staticmethod
    def _build(zone: ZoneConfig, full: tuple[int, int], small: tuple[int, int]) -> ZoneMask:
        poly = np.array(zone.polygon, dtype=np.float32)
        sx, sy = small[0] / full[0], small[1] / full[1]
        scaled = np.round(poly * np.array([sx, sy], dtype=np.float32)).astype(np.int32)
        mask = np.zeros((small[1], small[0]), dtype=np.uint8)
        cv2.fillPoly(mask, [scaled], 255)
        return ZoneMask(zone, mask, int(cv2.countNonZero(mask)), poly)


def contains(polygon_full: np.ndarray, x: float, y: float) -> bool:
    return cv2.pointPolygonTest(polygon_full.reshape(-1, 1, 2), (float(x), float(y)), False) >= 0


def draw_zones(image: np.ndarray, zones: list[ZoneConfig], full: tuple[int, int]) -> None:
    """Outline each zone (and its name) on a BGR image of any size, in place."""
    h, w = image.shape[:2]
    sx, sy = w / full[0], h / full[1]
    for zone in zones:
        pts = np.round(np.array(zone.polygon) * [sx, sy]).astype(np.int32)
        colour = (0, 200, 255) if zone.type == "lane" else (0, 255, 0)
        cv2.polylines(image, [pts.reshape(-1, 1, 2)], True, colour, 2)
        x, y = pts[0]
        cv2.putText(image, zone.name, (int(x) + 3, int(y) + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    colour, 1, cv2.LINE_AA)
