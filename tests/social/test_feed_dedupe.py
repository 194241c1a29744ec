"""A feed is counted once however big it is (issue 16: a 110,000-item feed gave 330,000
`banjir` posts after three failing polls, which feeds the trend score that pages BPBD)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sitroom_social
from sitroom.testing import SourceHarness
from tests.social.conftest import serve
from tests.social.test_rss import FeedServer, config

ITEMS = 300  # two hashes per post: 600 > the capacity of 100 below


def big_feed(count: int = ITEMS) -> bytes:
    items = "".join(
        f"<item><title>Banjir setinggi lutut di Kaligawe, laporan nomor {i}</title>"
        f"<guid>post-{i}</guid></item>" for i in range(count))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
            "</channel></rss>").encode()


async def test_a_feed_larger_than_the_dedupe_capacity_is_counted_once(tmp_path: Path) -> None:
    server = FeedServer(big_feed())
    server.honour_etag = False  # many servers ignore conditional requests
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, dedupe_capacity=100), state_dir=tmp_path
    ) as h:
        for _ in range(3):
            await h.collect()
        assert h.value("sitroom_social_posts_matched_total", topic="banjir") == ITEMS
        assert h.value("sitroom_social_posts_duplicate_total") == 2 * ITEMS
    # and after a restart, from the saved state
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, dedupe_capacity=100), state_dir=tmp_path
    ) as h2:
        await h2.collect()
        assert h2.value("sitroom_social_posts_matched_total", topic="banjir") == 0


async def test_a_poll_that_fails_after_processing_does_not_recount(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The poll's timeout can fire once the feed is processed (the save is the first await
    after it); the failing poll must not count the same posts again on the next try."""
    server = FeedServer(big_feed())
    server.honour_etag = False
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, dedupe_capacity=100), state_dir=tmp_path
    ) as h:
        async def timed_out(force: bool = False) -> None:
            raise TimeoutError

        monkeypatch.setattr(h.source.core, "save", timed_out)
        for _ in range(3):
            with pytest.raises(TimeoutError):
                await h.collect()
        monkeypatch.undo()
        assert h.value("sitroom_social_posts_matched_total", topic="banjir") == ITEMS
