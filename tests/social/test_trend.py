"""The burst scorer: a burst from one district stands out, a steady stream does not."""

from __future__ import annotations

import math
import random

import pytest

from sitroom_social.trend import MAX_SCORE, TrendScorer, poisson_surprise

HOUR = 3600.0


def test_poisson_surprise_matches_the_closed_form_for_small_counts() -> None:
    mu = 0.5
    tail = 1 - sum(math.exp(-mu) * mu**k / math.factorial(k) for k in range(3))
    assert poisson_surprise(3, mu) == pytest.approx(-math.log10(tail), rel=1e-9)
    assert poisson_surprise(0.4, mu) == 0.0  # at or below expectation: no surprise
    assert poisson_surprise(10_000, 1.0) == MAX_SCORE
    with pytest.raises(ValueError):
        poisson_surprise(1, 0)


def test_surprise_grows_with_the_count_and_shrinks_with_the_baseline() -> None:
    assert poisson_surprise(6, 1) > poisson_surprise(4, 1) > poisson_surprise(2, 1)
    assert poisson_surprise(6, 1) > poisson_surprise(6, 3)


def steady(scorer: TrendScorer, key: tuple[str, ...], until: float, every: float,
           rng: random.Random, start: float = 0.0) -> float:
    """Posts at a steady average rate with random spacing; returns the max score seen."""
    now, worst = start, 0.0
    while now < until:
        now += rng.expovariate(1 / every)
        scorer.add(key, now)
        worst = max(worst, scorer.score(key, now))
    return worst


def test_steady_stream_stays_quiet_and_teaches_the_baseline() -> None:
    rng = random.Random(1)
    scorer = TrendScorer(bucket_seconds=60, window_buckets=5, half_life_seconds=2 * HOUR)
    key = ("banjir", "semarang-utara")
    # one post every 2 minutes for 12 hours: 360 posts, but nothing unusual about it
    steady(scorer, key, 6 * HOUR, 120, rng)  # learning period
    worst = steady(scorer, key, 12 * HOUR, 120, rng, start=6 * HOUR)
    assert worst < 4  # below the alert threshold throughout
    assert scorer.expected(key) == pytest.approx(2.5, rel=0.35)  # 5 min x 1 post / 2 min


def test_burst_from_one_district_raises_its_score_and_the_topic_score() -> None:
    rng = random.Random(2)
    scorer = TrendScorer(bucket_seconds=60, window_buckets=5, half_life_seconds=6 * HOUR)
    usual = ("banjir", "semarang-utara")
    burst = ("banjir", "gayamsari")
    topic = ("banjir",)
    now = 0.0
    # a day of the usual: semarang-utara talks about rob every ~10 minutes
    while now < 24 * HOUR:
        now += rng.expovariate(1 / 600)
        scorer.add(usual, now)
        scorer.add(topic, now)
    scorer.track(burst)
    before = (scorer.score(burst, now), scorer.score(topic, now), scorer.score(usual, now))
    assert max(before) < 2
    # 12 flood posts from Kaligawe in 4 minutes
    for i in range(12):
        t = now + 20 * i
        scorer.add(burst, t)
        scorer.add(topic, t)
    now += 240
    assert scorer.score(burst, now) > 8
    assert scorer.score(topic, now) > 4
    assert scorer.score(usual, now) < 2
    # the burst does not become the new normal within the hour: bounded baseline update
    assert scorer.expected(burst) < 1.0
    # and the score falls back once the window has passed
    later = now + 30 * 60
    assert scorer.score(burst, later) == 0.0


def test_a_single_post_on_a_silent_topic_is_not_an_alert() -> None:
    scorer = TrendScorer(bucket_seconds=60, window_buckets=5, min_rate_per_hour=1.0)
    scorer.add(("begal", "tugu"), 10.0)
    assert 0 < scorer.score(("begal", "tugu"), 10.0) < 4


def test_long_silence_decays_the_baseline() -> None:
    scorer = TrendScorer(bucket_seconds=60, window_buckets=5, half_life_seconds=HOUR,
                         min_rate_per_hour=0.1)
    key = ("macet",)
    for minute in range(600):
        for _ in range(3):
            scorer.add(key, minute * 60.0)
    high = scorer.expected(key)
    scorer.advance(600 * 60.0 + 5 * HOUR)  # five half-lives of silence
    assert scorer.expected(key) < high / 20


def test_warmup_reports_zero_then_scores() -> None:
    scorer = TrendScorer(bucket_seconds=60, window_buckets=5, warmup_seconds=600)
    for i in range(10):
        scorer.add(("banjir",), 100.0 + i)
    assert scorer.score(("banjir",), 110.0) == 0.0
    scorer2 = TrendScorer(bucket_seconds=60, window_buckets=5, warmup_seconds=600)
    for i in range(10):
        scorer2.add(("banjir",), 700.0 + i)
    assert scorer2.score(("banjir",), 710.0) > 4


def test_baselines_survive_export_and_restore() -> None:
    scorer = TrendScorer(bucket_seconds=60, window_buckets=5, half_life_seconds=HOUR)
    for minute in range(300):
        scorer.add(("macet", "semarang-selatan"), minute * 60.0)
    exported = scorer.export()
    fresh = TrendScorer(bucket_seconds=60, window_buckets=5, half_life_seconds=HOUR)
    fresh.restore(exported | {"gone|x": 3.0, "macet|y": float("nan")},
                  {"macet|semarang-selatan": ("macet", "semarang-selatan")})
    assert fresh.expected(("macet", "semarang-selatan")) == pytest.approx(
        scorer.expected(("macet", "semarang-selatan")))
    assert fresh.tracked() == [("macet", "semarang-selatan")]


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        TrendScorer(bucket_seconds=0)
