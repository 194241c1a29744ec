"""One camera's analysis chain, the same for the daemon, `sitroom analyse` and the tests.

`analyse()` is the worker-pool half (pixels: motion, tamper, detection, tracking);
`evaluate()` the event-loop half (presence, rules, events and their snapshots). The camera
source writes metrics from what they return; the offline command prints it as JSON.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from sitroom_cameras.analysis import Analyzer, FrameReport
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.rules import Rules
from sitroom_cameras.tracker import Track

SNAPSHOT_EVENTS = 32  # event snapshots kept per camera (oldest dropped first) ...
SNAPSHOT_BYTES = 2 << 20  # ... and at most this many JPEG bytes per camera


@dataclass
class CameraEvent:
    id: str
    zone: str  # zone or line name; "" for the whole picture
    rule: str
    track: int | None = None
    cls: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "zone": self.zone, "rule": self.rule, "track": self.track,
                "class": self.cls}


@dataclass
class Step:
    presence: dict[str, bool]
    events: list[CameraEvent] = field(default_factory=list)


class EventSnapshots:
    """JPEGs of events, in memory, bounded in count and bytes (oldest go first)."""

    def __init__(self, max_count: int = SNAPSHOT_EVENTS, max_bytes: int = SNAPSHOT_BYTES) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self.bytes = 0

    def add(self, event_id: str, jpeg: bytes) -> None:
        if len(jpeg) > self.max_bytes:
            return
        self._items[event_id] = jpeg
        self.bytes += len(jpeg)
        while len(self._items) > self.max_count or self.bytes > self.max_bytes:
            _, old = self._items.popitem(last=False)
            self.bytes -= len(old)

    def get(self, event_id: str) -> bytes | None:
        return self._items.get(event_id)

    def __len__(self) -> int:
        return len(self._items)


def draw_object(frame: np.ndarray, full_size: tuple[int, int], box: tuple[int, int, int, int],
                label: str) -> bytes:
    """The frame (grey, snapshot size) as JPEG with one object's box and label drawn."""
    image = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame.copy()
    s = image.shape[1] / full_size[0]
    x, y, w, h = (round(v * s) for v in box)
    cv2.rectangle(image, (x, y), (x + w, y + h), (0, 0, 255), 2)
    cv2.putText(image, label, (x, max(12, y - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255),
                1, cv2.LINE_AA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError("could not encode the event snapshot")
    return data.tobytes()


class CameraAnalysis:
    """Analyzer + Rules + event snapshots of one camera."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.analyzer = Analyzer(config)
        self.rules = Rules(config.zones, float(config.analysis.tamper_after),
                           float(config.analysis.frozen_after), config.lines)
        self.snapshots = EventSnapshots()

    def analyse(self, grey: np.ndarray, full_size: tuple[int, int], now: float) -> FrameReport:
        return self.analyzer.analyse(grey, full_size, now)

    def presence(self, report: FrameReport) -> dict[str, bool]:
        """Zone presence: a detected person's feet (presence: people), else motion."""
        detecting = self.config.analysis.people
        out = {}
        for zone in self.config.zones:
            if zone.presence == "people" and detecting:
                out[zone.name] = report.zone_people.get(zone.name, 0) > 0
            else:
                out[zone.name] = report.zone_motion.get(zone.name, 0.0) >= zone.motion_threshold
        return out

    def evaluate(self, report: FrameReport, now: float, local: datetime) -> Step:
        """Rules on one report; each new event gets an id and a snapshot of its object."""
        presence = self.presence(report)
        dwell = report.zone_dwell if self.config.analysis.people else None
        fired = self.rules.evaluate(now, local, presence, report.tamper, report.frozen_seconds,
                                    dwell=dwell, crossings=report.crossings)
        step = Step(presence)
        tracks = {t.id: t for t in self.analyzer.tracker.tracks}
        for f in fired:
            track = tracks.get(f.track) if f.track is not None else None
            event = CameraEvent(secrets.token_hex(8), f.zone, f.rule, f.track,
                                track.cls if track else None)
            self._keep_snapshot(event, track, report)
            step.events.append(event)
        return step

    def _keep_snapshot(self, event: CameraEvent, track: Track | None, report: FrameReport
                       ) -> None:
        """The object's best frame with its box, else the current frame (tamper, frozen)."""
        frame = self.analyzer.snapshot
        box = None
        if track is not None and track.best_frame is not None and track.best_box is not None:
            frame, box = track.best_frame, track.best_box
        if frame is None:
            return
        label = f"{event.rule} {event.zone}".strip()
        if box is None:
            box = (0, 0, report.full_size[0] - 1, report.full_size[1] - 1)
        else:
            label = f"{track.cls} #{track.id} {label}" if track else label
        self.snapshots.add(event.id, draw_object(frame, report.full_size, box, label))
