"""Rate of rise from noisy, late and repeated readings.

Water-level sensors are noisy (waves, floating debris under an ultrasonic head) and MQTT
QoS 1 redelivers after a reconnect, so readings arrive late, out of order and twice. A
least-squares slope over the last two points would swing wildly on one bad sample; instead
the window keeps readings sorted by their own timestamps and fits Tukey's resistant line:
the slope between the median of the oldest third and the median of the newest third. It
ignores up to a third of outliers at either end, costs O(n log n), and needs no tuning.
"""

from __future__ import annotations

import bisect
import statistics

MAX_POINTS = 240
"""Bound per sensor: a sensor reporting every 5 s fills a 15-minute window with 180."""


class RateWindow:
    """Readings (time, value) within `window` seconds of the newest one."""

    __slots__ = ("max_points", "min_span", "times", "values", "window")

    def __init__(self, window: float, min_span: float, max_points: int = MAX_POINTS) -> None:
        self.window = window
        self.min_span = min_span
        self.max_points = max_points
        self.times: list[float] = []
        self.values: list[float] = []

    def add(self, at: float, value: float) -> bool:
        """Insert a reading in time order; False if a reading with this timestamp exists."""
        index = bisect.bisect_left(self.times, at)
        if index < len(self.times) and self.times[index] == at:
            return False
        self.times.insert(index, at)
        self.values.insert(index, value)
        cutoff = self.times[-1] - self.window
        drop = bisect.bisect_left(self.times, cutoff)
        drop = max(drop, len(self.times) - self.max_points)
        if drop > 0:
            del self.times[:drop]
            del self.values[:drop]
        return True

    def slope(self) -> float | None:
        """Units per second, or None while the window is too short to say."""
        count = len(self.times)
        if count < 3 or self.times[-1] - self.times[0] < self.min_span:
            return None
        third = max(1, count // 3)
        t_old = statistics.median(self.times[:third])
        t_new = statistics.median(self.times[-third:])
        if t_new <= t_old:
            return None
        v_old = statistics.median(self.values[:third])
        v_new = statistics.median(self.values[-third:])
        return (v_new - v_old) / (t_new - t_old)
