"""The camera's pictures for people: the latest frame in colour, and recent events.

Analysis works on small grey pictures (cheap); operators want colour. The decoder already
holds the colour picture (a JPEG's bytes, or the decoded video frame), so the source keeps
a reference to the newest one and only turns it into a JPEG when someone asks: nothing is
decoded twice on the analysis path, and memory per camera stays one picture.

Events keep a small colour JPEG each (the newest EVENT_PICTURES per camera, EVENT_WIDTH
wide) and the facts of the last MAX_EVENTS, in memory only: pictures never touch disk.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import av
import cv2
import numpy as np

from sitroom_cameras.analysis import FrameReport
from sitroom_cameras.config import LineConfig, ZoneConfig
from sitroom_cameras.zones import draw_zones

COLOUR_WIDTH = 960  # the wall and the camera page; bigger buys nothing on a grid of tiles
EVENT_WIDTH = 480
MAX_EVENTS = 50
EVENT_PICTURES = 5


def colour_picture(source: bytes | av.VideoFrame, width: int = COLOUR_WIDTH) -> np.ndarray:
    """A BGR picture at most `width` wide from a JPEG or a decoded video frame."""
    if isinstance(source, bytes | bytearray):
        flag = cv2.IMREAD_REDUCED_COLOR_2 if len(source) > 400_000 else cv2.IMREAD_COLOR
        image = cv2.imdecode(np.frombuffer(source, np.uint8), flag)
        if image is None:
            raise ValueError("corrupt JPEG picture")
    else:
        scale = min(1.0, width / max(1, source.width))
        image = source.to_ndarray(format="bgr24", width=max(2, int(source.width * scale) & ~1),
                                  height=max(2, int(source.height * scale) & ~1))
    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(image, (width, max(1, h * width // w)), interpolation=cv2.INTER_AREA)
    return image


def annotate(image: np.ndarray, zones: list[ZoneConfig], report: FrameReport | None,
             lines: Sequence[LineConfig] = ()) -> None:
    """Zones, tripwires and tracked objects (class and id) drawn in place, scaled from
    full-resolution coordinates."""
    if report is None:
        return
    draw_zones(image, zones, report.full_size)
    s = image.shape[1] / report.full_size[0]
    thick = max(1, round(image.shape[1] / 480))
    for track in report.objects:
        x, y, bw, bh = track.box
        cv2.rectangle(image, (int(x * s), int(y * s)), (int((x + bw) * s), int((y + bh) * s)),
                      (255, 80, 0), thick)
        cv2.putText(image, f"{track.cls} #{track.id}", (int(x * s), int(y * s) - 2),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35 * thick, (255, 80, 0), thick, cv2.LINE_AA)
    for line in lines:
        (x0, y0), (x1, y1) = line.points
        cv2.line(image, (int(x0 * s), int(y0 * s)), (int(x1 * s), int(y1 * s)), (0, 0, 255),
                 thick + 1)


def encode(image: np.ndarray, quality: int = 80) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode JPEG")
    return data.tobytes()


@dataclass
class CameraEvent:
    """One rule that fired: what, where, when; `picture` while among the newest few."""

    seq: int
    at: float
    rule: str
    zone: str
    picture: bytes | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "rule": self.rule, "zone": self.zone,
                "has_picture": self.picture is not None}


@dataclass
class EventLog:
    """The last MAX_EVENTS events of one camera, newest first; pictures for a few."""

    events: deque[CameraEvent] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    _seq: count[int] = field(default_factory=lambda: count(1))

    def add(self, rule: str, zone: str) -> CameraEvent:
        event = CameraEvent(next(self._seq), time.time(), rule, zone)
        self.events.appendleft(event)
        for old in list(self.events)[EVENT_PICTURES:]:
            old.picture = None
        return event

    def get(self, seq: int) -> CameraEvent | None:
        return next((e for e in self.events if e.seq == seq), None)
