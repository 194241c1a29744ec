"""The demo simulator: Mastodon-style paging, growing ids, conditional RSS, and the kinds
reading it end to end through the harness."""

from __future__ import annotations

from pathlib import Path

import sitroom_social
from sitroom.testing import SourceHarness
from sitroom_social.simulator import PostStream, SocialSimulatorConfig, build_app, select
from tests.social.conftest import serve


def stream(now: float, **extra: object) -> PostStream:
    config = SocialSimulatorConfig.model_validate(
        {"post_every": 1, "burst_every": 0, **extra})
    s = PostStream(config, started=1_800_000_000.0)
    s.advance(1_800_000_000.0 + now)
    return s


def test_paging_matches_mastodon_semantics() -> None:
    posts = stream(30).posts
    assert len(posts) == 30
    newest = select(posts, {"limit": "5"})
    assert [p.seq for p in newest] == [29, 28, 27, 26, 25]
    after = select(posts, {"limit": "5", "min_id": posts[9].id})
    assert [p.seq for p in after] == [14, 13, 12, 11, 10]
    since = select(posts, {"limit": "5", "since_id": posts[9].id})
    assert [p.seq for p in since] == [29, 28, 27, 26, 25]
    older = select(posts, {"limit": "3", "max_id": posts[9].id})
    assert [p.seq for p in older] == [8, 7, 6]


def test_ids_keep_growing_across_restarts() -> None:
    first = stream(10).posts
    config = SocialSimulatorConfig.model_validate({"post_every": 1, "burst_every": 0})
    later = PostStream(config, started=1_800_000_100.0)
    later.advance(1_800_000_105.0)
    assert int(later.posts[0].id) > int(first[-1].id)


def test_bursts_name_the_configured_place() -> None:
    s = stream(25, burst_every=10, burst_size=4, burst_place="Tambak Lorok")
    burst = [p for p in s.posts if "Tambak Lorok" in p.text]
    assert len(burst) == 8


async def test_kinds_read_the_simulator(tmp_path: Path) -> None:
    config = SocialSimulatorConfig.model_validate(
        {"post_every": 0.001, "burst_every": 0, "keep": 300})
    app = build_app(config, started=0.0)  # long ago: the server has posts at once
    async with serve(app) as url:
        rss = {"kind": "rss", "name": "sim-rss", "url": f"{url}/feed.xml"}
        async with SourceHarness.from_plugin(sitroom_social, rss, state_dir=tmp_path) as h:
            await h.collect()
            assert h.value("sitroom_social_posts_seen_total") == 30
            await h.collect()
            seen = h.value("sitroom_social_fetches_total", result="ok") or 0
            assert seen + (h.value("sitroom_social_fetches_total",
                                   result="not_modified") or 0) == 2
        masto = {"kind": "mastodon", "name": "sim-m", "base_url": url,
                 "timelines": [{"type": "public"}]}
        async with SourceHarness.from_plugin(sitroom_social, masto, state_dir=tmp_path) as h:
            await h.collect()
            assert h.value("sitroom_social_posts_seen_total") == 40
            assert (h.value("sitroom_social_ratelimit_remaining") or 0) > 0
