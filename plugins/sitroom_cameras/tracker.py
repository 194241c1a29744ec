"""Objects followed across analysed frames: ids, dwell per zone, line crossings.

A small tracker of our own rather than ByteTrack (`supervision`) or `norfair`: at one analysed
frame per second a walking person moves about half a body height between frames and a car
several lengths, so the motion models those libraries tune for 25 fps video buy little, and
they would bring scipy/matplotlib into a daemon that runs a thousand cameras. Association is
greedy per class on a cost of box overlap (IoU) plus centre distance scaled by the object's
size; a track survives `max_missed` frames unseen (a missed detection is not a new person),
and holds still, not ageing, on frames where the detector did not run because nothing moved
(Frigate's stationary objects).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from sitroom_cameras.config import LineConfig
from sitroom_cameras.detector import Box, Detection

MIN_IOU = 0.05
REACH = {"person": 2.0}  # how far a centre may move beyond its prediction, in box sizes
DEFAULT_REACH = 3.0  # vehicles move further per analysed frame


def iou(a: Box, b: Box) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = min(ax1, bx1) - max(a[0], b[0])
    ih = min(ay1, by1) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def foot(box: Box) -> tuple[float, float]:
    """Where an object stands: the bottom centre of its box."""
    return box[0] + box[2] / 2, box[1] + box[3]


def side(line: LineConfig, point: tuple[float, float]) -> float:
    """> 0 right of the line (looking from its first point to its second, y down), < 0 left."""
    (ax, ay), (bx, by) = line.points
    return (bx - ax) * (point[1] - ay) - (by - ay) * (point[0] - ax)


def crosses(line: LineConfig, p: tuple[float, float], q: tuple[float, float]) -> str | None:
    """The direction name when the step p -> q crosses the line segment, else None."""
    s0, s1 = side(line, p), side(line, q)
    if s0 == 0 or s1 == 0 or (s0 > 0) == (s1 > 0):
        return None
    # the step's end points are on both sides of the line; the line's on both sides of the step
    (ax, ay), (bx, by) = line.points
    t0 = (q[0] - p[0]) * (ay - p[1]) - (q[1] - p[1]) * (ax - p[0])
    t1 = (q[0] - p[0]) * (by - p[1]) - (q[1] - p[1]) * (bx - p[0])
    if (t0 > 0) == (t1 > 0) and t0 != 0 and t1 != 0:
        return None
    return line.directions[0] if s1 > 0 else line.directions[1]


def _looked_at(box: Box, scanned: list[Box] | None) -> bool:
    """Whether most of the box lay inside a scanned region."""
    if scanned is None:
        return True
    x, y, w, h = box
    area = max(1, w * h)
    for sx, sy, sw, sh in scanned:
        iw = min(x + w, sx + sw) - max(x, sx)
        ih = min(y + h, sy + sh) - max(y, sy)
        if iw > 0 and ih > 0 and iw * ih >= 0.5 * area:
            return True
    return False


@dataclass
class Track:
    id: int
    cls: str
    box: Box  # full-resolution pixels
    score: float
    first_seen: float
    last_seen: float
    hits: int = 1
    missed: int = 0
    zone_since: dict[str, float] = field(default_factory=dict)
    velocity: tuple[float, float] = (0.0, 0.0)  # centre pixels per second, smoothed
    best_score: float = 0.0
    best_frame: np.ndarray | None = None  # the snapshot-size frame where it was seen best
    best_box: Box | None = None  # full-resolution box in that frame

    def dwell(self, zone: str, now: float) -> float:
        since = self.zone_since.get(zone)
        return 0.0 if since is None else now - since


@dataclass(frozen=True)
class Crossing:
    line: str
    cls: str
    direction: str
    track: int


class ObjectTracker:
    """The tracks of one camera; `update` once per analysed frame."""

    def __init__(self, max_missed: int = 2, max_tracks: int = 256) -> None:
        self.max_missed = max_missed
        self.max_tracks = max_tracks
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def visible(self) -> list[Track]:
        """Tracks seen in the latest frame the detector ran on."""
        return [t for t in self.tracks if t.missed == 0]

    def update(self, detections: list[Detection], now: float, lines: list[LineConfig],
               scanned: list[Box] | None = None) -> list[Crossing]:
        """Match detections to tracks; return the line crossings this step made.

        `scanned` are the regions the detector looked at (None: the whole picture). A track
        outside them was not looked for, so it holds as it is instead of counting a miss.
        """
        crossings: list[Crossing] = []
        pairs = self._pairs(detections, now)
        matched_tracks: set[int] = set()
        matched_dets: set[int] = set()
        for _cost, ti, di in sorted(pairs):
            if ti in matched_tracks or di in matched_dets:
                continue
            matched_tracks.add(ti)
            matched_dets.add(di)
            track, det = self.tracks[ti], detections[di]
            before, after = foot(track.box), foot(det.box)
            for line in lines:
                if line.classes is not None and track.cls not in line.classes:
                    continue
                direction = crosses(line, before, after)
                if direction is not None:
                    crossings.append(Crossing(line.name, track.cls, direction, track.id))
            dt = now - track.last_seen
            if dt > 0:
                vx = (det.box[0] + det.box[2] / 2 - track.box[0] - track.box[2] / 2) / dt
                vy = (det.box[1] + det.box[3] / 2 - track.box[1] - track.box[3] / 2) / dt
                track.velocity = (0.5 * (track.velocity[0] + vx), 0.5 * (track.velocity[1] + vy))
            track.box, track.score, track.last_seen = det.box, det.score, now
            track.hits += 1
            track.missed = 0
        survivors = []
        for i, track in enumerate(self.tracks):
            if i not in matched_tracks and _looked_at(track.box, scanned):
                track.missed += 1
                if track.missed > self.max_missed:
                    continue
            survivors.append(track)
        for i, det in enumerate(detections):
            if i not in matched_dets and len(survivors) < self.max_tracks:
                survivors.append(Track(next(self._ids), det.cls, det.box, det.score, now, now))
        self.tracks = survivors
        return crossings

    def _pairs(self, detections: list[Detection], now: float) -> list[tuple[float, int, int]]:
        """(cost, track, detection) for every plausible pair: overlap, or a centre within
        reach of where the track's velocity puts it now."""
        pairs = []
        for ti, track in enumerate(self.tracks):
            dt = now - track.last_seen
            tx = track.box[0] + track.box[2] / 2 + track.velocity[0] * dt
            ty = track.box[1] + track.box[3] / 2 + track.velocity[1] * dt
            size = max(track.box[2], track.box[3], 1)
            reach = REACH.get(track.cls, DEFAULT_REACH) * size * (1 + 0.5 * track.missed)
            for di, det in enumerate(detections):
                if det.cls != track.cls:
                    continue
                overlap = iou(track.box, det.box)
                dx = det.box[0] + det.box[2] / 2 - tx
                dy = det.box[1] + det.box[3] / 2 - ty
                distance = (dx * dx + dy * dy) ** 0.5
                if overlap < MIN_IOU and distance > reach:
                    continue
                pairs.append(((1 - overlap) + distance / reach, ti, di))
        return pairs
