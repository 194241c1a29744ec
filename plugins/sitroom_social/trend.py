"""Is a topic bursting? A Poisson surprise against a slowly learnt baseline rate.

A high count alone is not news: the main road is jammed every evening. What matters is a
count the usual rate makes unlikely. For each key (topic, or topic and district) we learn
the usual mentions per bucket as an exponentially weighted mean, and score the last
`window` as -log10 P(X >= observed | Poisson(expected)): 2 means "1 in 100", 4 "1 in 10,000".

Two guards keep the score honest: the expected rate never drops below `min_rate` (one post
on a topic nobody mentions is not a 20-sigma event), and when a bucket closes its count
feeds the baseline only up to expected + 3 sigma, so a burst does not teach the baseline
that bursts are normal within minutes, while a real change of habit still moves it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field

MAX_SCORE = 50.0


def poisson_surprise(observed: float, expected: float) -> float:
    """-log10 P(X >= observed) for X ~ Poisson(expected); 0 when observed <= expected."""
    if expected <= 0:
        raise ValueError("expected must be positive")
    if observed <= expected:
        return 0.0
    x = math.ceil(observed)
    log_mu = math.log(expected)
    # log P(X = x), then add the tail terms k >= x, which shrink once k > expected
    log_term = -expected + x * log_mu - math.lgamma(x + 1)
    log_total = log_term
    k = x
    while True:
        k += 1
        log_term += log_mu - math.log(k)
        if log_term < log_total - 37:  # below 1e-16 of the sum so far
            break
        log_total = log_total + math.log1p(math.exp(log_term - log_total))
    return min(MAX_SCORE, max(0.0, -log_total / math.log(10)))


@dataclass
class _KeyState:
    baseline: float  # expected mentions per bucket
    current: int = 0
    closed: deque[int] = field(default_factory=deque)


class TrendScorer:
    """Counts mentions per key in time buckets and scores the recent window."""

    def __init__(
        self,
        *,
        bucket_seconds: float = 60.0,
        window_buckets: int = 5,
        half_life_seconds: float = 6 * 3600.0,
        min_rate_per_hour: float = 1.0,
        warmup_seconds: float = 0.0,
        now: float = 0.0,
    ) -> None:
        if bucket_seconds <= 0 or window_buckets < 1 or half_life_seconds <= 0:
            raise ValueError("bucket, window and half-life must be positive")
        self.bucket = bucket_seconds
        self.window = window_buckets
        self.alpha = 1.0 - 0.5 ** (bucket_seconds / half_life_seconds)
        self.floor = min_rate_per_hour * bucket_seconds / 3600.0
        self.started = now
        self.warmup = warmup_seconds
        self.bucket_end = now + bucket_seconds
        self._keys: dict[Hashable, _KeyState] = {}

    # -- feeding ------------------------------------------------------------------------

    def add(self, key: Hashable, now: float, count: int = 1) -> None:
        self.advance(now)
        self._state(key).current += count

    def track(self, key: Hashable) -> None:
        """Score a key even before its first mention (so it reads 0, not absent)."""
        self._state(key)

    def advance(self, now: float) -> None:
        """Close every bucket that ended before `now`."""
        if now < self.bucket_end:
            return
        elapsed = int((now - self.bucket_end) // self.bucket) + 1
        for state in self._keys.values():
            self._close(state, elapsed)
        self.bucket_end += elapsed * self.bucket

    def _close(self, state: _KeyState, buckets: int) -> None:
        counts = [state.current] + [0] * (min(buckets, self.window + 1) - 1)
        for count in counts:
            sigma = math.sqrt(max(state.baseline, self.floor))
            clipped = min(float(count), state.baseline + 3 * sigma)
            state.baseline += self.alpha * (clipped - state.baseline)
            state.closed.append(count)
            while len(state.closed) > self.window - 1:
                state.closed.popleft()
        if buckets > len(counts):  # a long silence: decay the rest in closed form
            state.baseline *= (1 - self.alpha) ** (buckets - len(counts))
        state.current = 0

    def _state(self, key: Hashable) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState(baseline=self.floor)
        return state

    # -- reading ------------------------------------------------------------------------

    def tracked(self) -> list[Hashable]:
        return list(self._keys)

    def observed(self, key: Hashable) -> int:
        state = self._keys.get(key)
        return 0 if state is None else state.current + sum(state.closed)

    def expected(self, key: Hashable) -> float:
        state = self._keys.get(key)
        baseline = self.floor if state is None else max(state.baseline, self.floor)
        return baseline * self.window

    def score(self, key: Hashable, now: float | None = None) -> float:
        if now is not None:
            self.advance(now)
            if now - self.started < self.warmup:
                return 0.0
        return poisson_surprise(self.observed(key), self.expected(key))

    # -- persistence (baselines only: a restart keeps what "usual" means) -----------------

    def export(self) -> dict[str, float]:
        return {"|".join(map(str, k)) if isinstance(k, tuple) else str(k): s.baseline
                for k, s in self._keys.items()}

    def restore(self, baselines: dict[str, float], known: dict[str, Hashable]) -> None:
        """Load baselines for the keys still configured (`known` maps exported names)."""
        for name, value in baselines.items():
            key = known.get(name)
            if key is not None and isinstance(value, int | float) and math.isfinite(value):
                self._state(key).baseline = max(0.0, float(value))
