"""The common face of every way a picture reaches us (RTSP, MJPEG, snapshots, files).

A feed receives encoded frames continuously and cheaply (no decoding), keeps only what the
next analysis needs, and hands it over as a `Pending` whose `decode()` runs in the worker
pool. Its counters (frames, GOP, fps, frame age) are the camera's health metrics.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from itertools import pairwise

from sitroom.api import MetricWriter
from sitroom_cameras.decode import Decoded

MEDIA_GAP = 10.0  # s: a jump forward in stream time that starts a new fps window

Pending = Callable[[], Decoded]
"""Blocking work that decodes what a feed collected into one grey picture."""


class FeedStats:
    """Counters a feed updates as frames arrive (from a reader thread or the event loop)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frames = 0
        self.gop: int | None = None
        self.last_mono: float | None = None
        self._times: deque[float] = deque(maxlen=64)
        self._arrival_clock = True  # whether _times holds arrival times or stream times
        self.since_key: int | None = None

    def frame(self, keyframe: bool = True, media_time: float | None = None) -> None:
        """Count a frame; `media_time` (its timestamp in the stream, in seconds) makes the
        fps independent of how the frames arrive: a feed that reads in bursts gets a
        dozen frames within a millisecond, which arrival times would call 10,000 fps."""
        now = time.monotonic()
        stamp = now if media_time is None else media_time
        with self.lock:
            self.frames += 1
            self.last_mono = now
            times = self._times
            # B-frames make stream times go back a little (reordering); a stream clock that
            # jumped goes back, or forward, a lot
            if times and (stamp < times[-1] - 1.0
                          or (media_time is not None and stamp > times[-1] + MEDIA_GAP)
                          or (media_time is None) != self._arrival_clock):
                times.clear()
            self._arrival_clock = media_time is None
            times.append(stamp)
            if keyframe:
                if self.since_key is not None:
                    self.gop = self.since_key + 1
                self.since_key = 0
            elif self.since_key is not None:
                self.since_key += 1

    def restart_rate(self) -> None:
        """Forget the frame times (a looped file starts its clock again)."""
        with self.lock:
            self._times.clear()

    @property
    def last_wall(self) -> float | None:
        """Wall-clock time of the last frame: now minus its age, so a clock step since is
        reflected (and the per-packet path reads one clock, not two)."""
        age = self.age()
        return None if age is None else time.time() - age

    @property
    def fps(self) -> float:
        with self.lock:
            times = list(self._times)
            arrival = self._arrival_clock
        if len(times) < 2:
            return 0.0
        if arrival:
            span = times[-1] - times[0]
            return (len(times) - 1) / span if span > 0 else 0.0
        # stream times come in decode order: with B-frames the newest frames' neighbours in
        # time are still to come, so the span over-counts; the median gap between frames
        # in presentation order does not care
        ordered = sorted(times)
        gaps = sorted(b - a for a, b in pairwise(ordered) if b > a)
        return 1.0 / gaps[len(gaps) // 2] if gaps else 0.0

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the last frame, or None before the first."""
        if self.last_mono is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_mono


class Feed:
    """Base of the feeds. `open()` connects, `grab()` returns new work or None, `close()`."""

    transport = "unknown"
    client = ""  # who reads the stream, where there is a choice (RTSP: native | ffmpeg)
    burst = 0.0  # longest a reader rests between reads (s); see feed_av.BURST

    def __init__(self) -> None:
        self.stats = FeedStats()
        self.size: tuple[int, int] | None = None
        self.mode = "jpeg"  # what decode() does: jpeg | keyframes | all

    @property
    def lost(self) -> int:
        """Frames lost before decoding so far (missing RTP fragments, queue overflow)."""
        return 0

    def slack(self) -> float:
        """Seconds of frame age to excuse right now: a reader that rests between bursts
        (to save wake-ups) takes no frames in meanwhile, yet the camera is fine."""
        return 0.0

    def report(self, metrics: MetricWriter, labels: dict[str, str]) -> None:
        """Write transport-specific health (HLS playlist age...); most feeds have none."""

    async def open(self) -> None:
        raise NotImplementedError

    async def grab(self) -> Pending | None:
        raise NotImplementedError

    async def close(self) -> None:
        """Stop receiving; must be safe to call twice and after a failed open()."""
