"""The shared pipeline (core.py) driven with a controlled clock: a synthetic burst of real
flood sentences naming one district raises that district's and the topic's trend gauges; a
steady stream of the same sentences spread over the day does not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import sitroom_social
from sitroom.testing import SourceHarness
from sitroom_social.core import Post
from tests.social.conftest import with_topic


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def harness(tmp_path: Path) -> tuple[SourceHarness, Clock]:
    h = SourceHarness.from_plugin(
        sitroom_social, {"kind": "social_webhook", "name": "bridge"}, state_dir=tmp_path)
    clock = Clock()
    core = h.source.core  # type: ignore[attr-defined]
    core.clock = clock
    core.trend.bucket_end = clock.now + core.trend.bucket
    core.trend.started = clock.now
    return h, clock


def flood_posts(place: str, count: int, tag: str) -> list[Post]:
    floods = with_topic("banjir")
    return [Post(uid=f"{tag}-{i}", text=f"{floods[i % len(floods)].text} ({place}, #{tag}{i})")
            for i in range(count)]


async def test_burst_raises_district_and_topic_scores_steady_stream_does_not(
    tmp_path: Path,
) -> None:
    h, clock = harness(tmp_path)
    core = h.source.core  # type: ignore[attr-defined]
    await core.start()
    # a steady day: one flood post naming Tanah Mas every 10 minutes for 12 hours
    steady = flood_posts("Tanah Mas", 72, "s")
    worst = 0.0
    for post in steady:
        clock.now += 600
        core.process([post])
        worst = max(worst, h.value("sitroom_social_trend_score", topic="banjir",
                                   district="semarang-utara") or 0)
    assert worst < 4
    assert h.value("sitroom_social_mentions_total", topic="banjir",
                   district="semarang-utara") == 72
    # then 12 posts from Kaligawe within three minutes
    for post in flood_posts("Kaligawe", 12, "b"):
        clock.now += 15
        core.process([post])
    kaligawe = h.value("sitroom_social_trend_score", topic="banjir", district="gayamsari")
    assert kaligawe is not None and kaligawe > 8
    assert (h.value("sitroom_social_topic_trend_score", topic="banjir") or 0) > 4
    assert (h.value("sitroom_social_trend_score", topic="banjir",
                    district="semarang-utara") or 0) < 4
    # an hour later, quiet again
    clock.now += 3600
    core.tick()
    assert h.value("sitroom_social_trend_score", topic="banjir", district="gayamsari") == 0
    await h.__aexit__(None, None, None)


async def test_old_backlog_is_counted_but_not_scored(tmp_path: Path) -> None:
    h, clock = harness(tmp_path)
    core = h.source.core  # type: ignore[attr-defined]
    await core.start()
    old = [Post(uid=p.uid, text=p.text, published=clock.now - 86400)
           for p in flood_posts("Kaligawe", 20, "old")]
    core.process(old)
    assert h.value("sitroom_social_mentions_total", topic="banjir", district="gayamsari") == 20
    assert (h.value("sitroom_social_trend_score", topic="banjir", district="gayamsari")
            or 0) == 0
    await h.__aexit__(None, None, None)


async def test_corrupt_state_file_starts_fresh(tmp_path: Path) -> None:
    path = tmp_path / "social_webhook" / "bridge.social.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    h, _clock = harness(tmp_path)
    core = h.source.core  # type: ignore[attr-defined]
    await core.start()
    result = core.process(flood_posts("Genuk", 3, "c"))
    assert result.matched == 3
    await h.__aexit__(None, None, None)  # close() saves a valid file over the broken one
    assert path.read_text().startswith('{"version":1')


@pytest.mark.parametrize("recent", [0, 3])
async def test_recent_posts_are_bounded(tmp_path: Path, recent: int) -> None:
    h = SourceHarness.from_plugin(
        sitroom_social, {"kind": "social_webhook", "name": "b", "recent_posts": recent},
        state_dir=tmp_path)
    core = h.source.core  # type: ignore[attr-defined]
    await core.start()
    core.process(flood_posts("Genuk", 10, "r"))
    assert len(core.recent_posts()) == recent
    await h.__aexit__(None, None, None)
