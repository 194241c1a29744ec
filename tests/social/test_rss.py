"""The `rss` kind against a real HTTP server on loopback, with feeds built from real news
sentences, and with hostile feeds (billion laughs, external entities, huge documents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import sitroom_social
from sitroom.api import SourceError
from sitroom.testing import SourceHarness
from tests.social.conftest import (
    atom_feed,
    rss_feed,
    serve,
    with_topic,
    without_topics,
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>banjir &lol9;</title><guid>x</guid></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>banjir</title><description>&xxe;</description><guid>y</guid></item>
</channel></rss>"""


class FeedServer:
    """Serves `body` with an ETag; counts requests and remembers conditional headers."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.etag = '"v1"'
        self.honour_etag = True
        self.requests: list[dict[str, str]] = []
        self.stream_bytes = 0  # > 0: send that many bytes chunked, no Content-Length

    def app(self) -> web.Application:
        async def feed(request: web.Request) -> web.StreamResponse:
            self.requests.append(dict(request.headers))
            if self.stream_bytes:
                response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
                response.enable_chunked_encoding()
                await response.prepare(request)
                await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
                chunk = b"<item><title>banjir di Kaligawe</title></item>" * 1000
                sent = 0
                try:
                    while sent < self.stream_bytes:
                        await response.write(chunk)
                        sent += len(chunk)
                except ConnectionResetError:
                    pass
                return response
            if self.honour_etag and request.headers.get("If-None-Match") == self.etag:
                return web.Response(status=304, headers={"ETag": self.etag})
            return web.Response(body=self.body, content_type="application/rss+xml",
                                headers={"ETag": self.etag,
                                         "Last-Modified": "Sun, 29 Nov 2026 10:00:00 GMT"})

        app = web.Application()
        app.router.add_get("/feed.xml", feed)
        return app


def config(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "rss", "name": "berita", "url": f"{url}/feed.xml", **extra}


async def test_real_sentences_counted_by_topic_and_district_without_text(
    tmp_path: Path,
) -> None:
    floods, fires, others = with_topic("banjir"), with_topic("kebakaran"), without_topics()[:20]
    server = FeedServer(rss_feed(floods + fires + others))
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url), state_dir=tmp_path
    ) as h:
        await h.collect()
        assert h.value("sitroom_social_posts_seen_total") == len(floods + fires + others)
        assert h.value("sitroom_social_posts_matched_total", topic="banjir") == len(floods)
        assert h.value("sitroom_social_posts_matched_total", topic="kebakaran") == len(fires)
        assert h.value("sitroom_social_posts_matched_total", topic="sampah") == 0
        mentions = h.samples("sitroom_social_mentions_total")
        assert sum(v for (topic, _d), v in mentions.items() if topic == "banjir") == len(floods)
        # news from elsewhere names no Semarang place
        assert {d for (_t, d) in mentions} == {"unknown"}
        assert h.value("sitroom_social_fetches_total", result="ok") == 1
        assert h.value("sitroom_social_district_info", district="semarang-utara",
                       kecamatan="Semarang Utara") == 1
        exposition = h.render()
        for sentence in floods + fires:
            assert sentence.text[:30] not in exposition
        recent = h.source.core.recent_posts("banjir")
        assert {p.url for p in recent} == {
            f"http://127.0.0.1/berita/item-{s.index}" for s in floods}


async def test_conditional_get_and_dedupe_across_polls_and_restarts(tmp_path: Path) -> None:
    floods = with_topic("banjir")
    server = FeedServer(rss_feed(floods))
    async with serve(server.app()) as url:
        async with SourceHarness.from_plugin(
            sitroom_social, config(url), state_dir=tmp_path
        ) as h:
            await h.collect()
            await h.collect()  # server answers 304 to the saved ETag
            assert server.requests[1].get("If-None-Match") == '"v1"'
            assert "If-Modified-Since" in server.requests[1]
            assert h.value("sitroom_social_fetches_total", result="not_modified") == 1
            assert h.value("sitroom_social_posts_matched_total", topic="banjir") == len(floods)
        # a restart with the same state dir: a server that ignores ETags resends everything,
        # and every post is recognised as already seen
        server.honour_etag = False
        async with SourceHarness.from_plugin(
            sitroom_social, config(url), state_dir=tmp_path
        ) as h2:
            await h2.collect()
            assert h2.value("sitroom_social_posts_duplicate_total") == len(floods)
            assert h2.value("sitroom_social_posts_matched_total", topic="banjir") == 0
        state = (tmp_path / "rss" / "berita.social.json").read_text()
        assert floods[0].text[:20] not in state and "item-" not in state


async def test_same_story_with_another_guid_is_a_duplicate(tmp_path: Path) -> None:
    floods = with_topic("banjir")
    server = FeedServer(rss_feed(floods, prefix="a"))
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url), state_dir=tmp_path
    ) as h:
        await h.collect()
        server.body, server.etag = rss_feed(floods, prefix="b"), '"v2"'
        await h.collect()
        assert h.value("sitroom_social_posts_duplicate_total") == len(floods)


async def test_atom_feed(tmp_path: Path) -> None:
    items = with_topic("macet")
    server = FeedServer(atom_feed(items))
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url), state_dir=tmp_path
    ) as h:
        await h.collect()
        assert h.value("sitroom_social_posts_matched_total", topic="macet") == len(items)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY,
                                  BILLION_LAUGHS.decode().encode("utf-16")],
                         ids=["billion-laughs", "external-entity", "utf16-billion-laughs"])
async def test_hostile_xml_is_refused_before_parsing(tmp_path: Path, body: bytes) -> None:
    server = FeedServer(body)
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url), state_dir=tmp_path
    ) as h:
        with pytest.raises(SourceError) as info:
            await h.collect()
        assert info.value.reason == "hostile_xml"
        assert h.value("sitroom_social_rejected_total", reason="hostile_xml") == 1
        assert h.value("sitroom_social_posts_seen_total") == 0


async def test_huge_document_is_abandoned_at_max_bytes(tmp_path: Path) -> None:
    server = FeedServer(b"")
    server.stream_bytes = 50 * 1024 * 1024  # 50 MB, chunked: no Content-Length to trust
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, max_bytes=256 * 1024), state_dir=tmp_path
    ) as h:
        with pytest.raises(SourceError) as info:
            await h.collect()
        assert info.value.reason == "too_large"
        assert h.value("sitroom_social_rejected_total", reason="too_large") == 1


async def test_declared_length_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    server = FeedServer(rss_feed(without_topics()[:200]))
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url, max_bytes=4096), state_dir=tmp_path
    ) as h:
        with pytest.raises(SourceError, match="declared"):
            await h.collect()


async def test_not_a_feed_and_http_errors_keep_earlier_counts(tmp_path: Path) -> None:
    floods = with_topic("banjir")
    server = FeedServer(rss_feed(floods))
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url), state_dir=tmp_path
    ) as h:
        await h.collect()
        server.body, server.etag = b"<html><body>maintenance</body></html>", '"v3"'
        with pytest.raises(SourceError) as info:
            await h.collect()
        assert info.value.reason == "malformed"
        assert h.value("sitroom_social_posts_matched_total", topic="banjir") == len(floods)
    async with SourceHarness.from_plugin(
        sitroom_social, config("http://127.0.0.1:9"), state_dir=tmp_path / "x"
    ) as h:
        with pytest.raises(SourceError) as info:
            await h.collect()
        assert info.value.reason == "connect"


async def test_rss_091_with_an_external_dtd_reference_is_accepted(tmp_path: Path) -> None:
    """Only entity declarations are refused: old RSS 0.91 feeds name Netscape's DTD."""
    floods = with_topic("banjir")[:2]
    body = rss_feed(floods).replace(
        b'<rss version="2.0">',
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91">')
    server = FeedServer(body)
    async with serve(server.app()) as url, SourceHarness.from_plugin(
        sitroom_social, config(url), state_dir=tmp_path
    ) as h:
        await h.collect()
        assert h.value("sitroom_social_posts_matched_total", topic="banjir") == 2
