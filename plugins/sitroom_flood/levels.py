"""Alert level (Normal 0, Waspada 1, Siaga 2, Awas 3) from a value and a sensor's thresholds."""

from __future__ import annotations

from collections.abc import Sequence


def alert_level(value: float, thresholds: Sequence[float], previous: int = 0,
                hysteresis: float = 0.0) -> int:
    """The highest level whose threshold `value` reaches.

    Going up is immediate (an Awas must never wait); going down from `previous` needs the
    value to fall `hysteresis` below the threshold it crossed, so a river hovering at a
    threshold does not page the duty officer every minute.
    """
    level = sum(1 for threshold in thresholds if value >= threshold)
    if level >= previous or hysteresis <= 0:
        return level
    # falling: hold each level above `level` until value < its threshold - hysteresis
    held = level
    for index in range(level, previous):
        if value >= thresholds[index] - hysteresis:
            held = index + 1
    return held
