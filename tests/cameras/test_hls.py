"""HLS cameras against a live stream ffmpeg makes from the shipped footage (sliding
playlist, segments deleted), served on loopback: monitored and analysed, frozen then down
when the producer stops, and refused when a playlist points a segment at a refused address.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web

import sitroom_cameras
from sitroom.api import SourceError, SourceHarness, serving
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.hls import PlaylistError, choose_variant, parse_playlist
from sitroom_cameras.hls_sim import HlsProducer, directory_app, shipped_footage
from tests.support import require_tool

pytestmark = pytest.mark.integration


def camera(url: str, **extra) -> dict:
    return {"kind": "camera", "name": "hls-cam", "url": url, "analysis_interval": "0.5s",
            "timeout": "5s", "stall_timeout": "12s",
            "analysis": {"people": False, "width": 160}, **extra}


@pytest.fixture
async def live(tmp_path: Path):
    require_tool("ffmpeg")
    producer = HlsProducer(shipped_footage(), tmp_path / "hls", segment_seconds=1,
                           list_size=4)
    await producer.start()
    try:
        await producer.wait_ready()
        async with serving(directory_app(producer.directory), "127.0.0.1", 0) as port:
            yield producer, f"http://127.0.0.1:{port}/live.m3u8"
    finally:
        await producer.stop()


def test_m3u8_urls_pick_hls():
    config = CameraConfig.model_validate(camera("https://cctv.example.id/video1_stream.m3u8"))
    assert config.resolved_transport == "hls"


async def test_live_hls_is_monitored_analysed_then_frozen_and_down(live):
    producer, url = live
    async with SourceHarness.from_plugin(sitroom_cameras, camera(url)) as h:
        task = h.start()
        cam = {"camera": "hls-cam"}
        await h.wait_for(lambda: (h.value("sitroom_camera_frames_analysed_total", **cam) or 0)
                         >= 2, within=20)
        assert h.value("sitroom_camera_up", **cam) == 1
        assert h.value("sitroom_camera_width_pixels", **cam) == 768
        assert h.value("sitroom_camera_gop_frames", **cam) == 10
        assert h.value("sitroom_camera_stream_frames_per_second", **cam) == pytest.approx(
            10, rel=0.2)
        assert h.value("sitroom_camera_hls_target_duration_seconds", **cam) >= 1
        first = h.value("sitroom_camera_hls_media_sequence", **cam)
        await h.wait_for(lambda: h.value("sitroom_camera_hls_media_sequence", **cam)
                         >= first + 2, within=15)  # the playlist slides
        assert h.value("sitroom_camera_hls_playlist_frozen", **cam) == 0
        assert h.value("sitroom_camera_brightness_ratio", **cam) > 0.1  # a real picture
        counts = [float(line.rsplit(" ", 1)[1]) for line in h.render().splitlines()
                  if line.startswith("sitroom_camera_hls_segment_fetch_duration_seconds_count")]
        assert counts and counts[0] >= 2
        await producer.stop()  # the encoder dies; the server keeps the last playlist
        await h.wait_for(lambda: h.value("sitroom_camera_hls_playlist_frozen", **cam) == 1,
                         within=15)
        await h.wait_for(lambda: h.value("sitroom_camera_up", **cam) == 0, within=15)
        with pytest.raises(SourceError) as excinfo:
            await asyncio.wait_for(task, 30)
        assert excinfo.value.reason == "stalled"


async def test_an_event_playlist_that_grows_is_followed(tmp_path: Path):
    require_tool("ffmpeg")
    producer = HlsProducer(shipped_footage(), tmp_path / "event", segment_seconds=1,
                           playlist_type="event")
    await producer.start()
    try:
        await producer.wait_ready()
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in (producer.directory / "live.m3u8").read_text()
        async with (serving(directory_app(producer.directory), "127.0.0.1", 0) as port,
                    SourceHarness.from_plugin(
                        sitroom_cameras, camera(f"http://127.0.0.1:{port}/live.m3u8")) as h):
            h.start()
            cam = {"camera": "hls-cam"}
            await h.wait_for(lambda: (h.value("sitroom_camera_frames_analysed_total", **cam)
                                      or 0) >= 3, within=20)
            assert h.value("sitroom_camera_hls_media_sequence", **cam) >= 2
            assert h.value("sitroom_camera_up", **cam) == 1
    finally:
        await producer.stop()


def _playlist(*segments: str) -> bytes:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2",
             "#EXT-X-MEDIA-SEQUENCE:7"]
    for segment in segments:
        lines += ["#EXTINF:2.0,", segment]
    return "\n".join(lines).encode() + b"\n"


@pytest.fixture
async def crafted(live):
    """A playlist server of our own, with one real segment copied from the live stream."""
    producer, _ = live
    segment = sorted(producer.directory.glob("seg*.ts"))[-1].read_bytes()
    files: dict[str, bytes] = {"/seg.ts": segment}

    async def handle(request: web.Request) -> web.Response:
        if request.path not in files:
            raise web.HTTPNotFound()
        return web.Response(body=files[request.path])

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    async with serving(app, "127.0.0.1", 0) as port:
        yield files, port


@pytest.mark.parametrize("target", ["http://10.20.30.40/seg.ts",
                                    "http://169.254.169.254/latest/meta-data/seg.ts",
                                    "http://[::1]:{port}/seg.ts",
                                    "file:///etc/passwd"])
async def test_a_segment_at_a_refused_address_is_refused(crafted, target):
    files, port = crafted
    files["/live.m3u8"] = _playlist(target.format(port=port))
    config = camera(f"http://127.0.0.1:{port}/live.m3u8")
    async with SourceHarness.from_plugin(sitroom_cameras, config) as h:
        with pytest.raises(SourceError) as excinfo:
            await asyncio.wait_for(h.source.run(), 10)
        assert excinfo.value.reason == "refused"


async def test_another_host_is_reached_only_when_allowed_and_pinned(crafted):
    files, port = crafted
    # same server under another name: a different origin, checked by the guard
    files["/live.m3u8"] = _playlist(f"http://localhost:{port}/seg.ts")
    url = f"http://127.0.0.1:{port}/live.m3u8"
    allowed = camera(url, hls_allow_networks=["127.0.0.0/8", "::1/128"])
    async with SourceHarness.from_plugin(sitroom_cameras, allowed) as h:
        task = h.start()
        await h.wait_for(lambda: (h.value("sitroom_camera_frames_analysed_total",
                                          camera="hls-cam") or 0) >= 1, within=10)
        task.cancel()
    async with SourceHarness.from_plugin(sitroom_cameras, camera(url)) as h:
        with pytest.raises(SourceError) as excinfo:
            await asyncio.wait_for(h.source.run(), 10)
        assert excinfo.value.reason == "refused"


async def test_oversized_and_bogus_playlists_fail_with_a_reason(crafted):
    files, port = crafted
    files["/big.m3u8"] = b"#EXTM3U\n" + b"#" * (600 * 1024)
    files["/bogus.m3u8"] = b"<html>not a playlist</html>"
    for name, reason in (("big", "too_large"), ("bogus", "playlist")):
        config = camera(f"http://127.0.0.1:{port}/{name}.m3u8")
        async with SourceHarness.from_plugin(sitroom_cameras, config) as h:
            with pytest.raises(SourceError) as excinfo:
                await asyncio.wait_for(h.source.run(), 10)
            assert excinfo.value.reason == reason


def test_playlist_parsing_live_event_master_and_refusals():
    live = parse_playlist(_playlist("a.ts", "b.ts").decode())
    assert (live.target_duration, live.last_sequence, live.ended) == (2, 8, False)
    event = parse_playlist("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:4\n"
                           "#EXTINF:4,\ns0.ts\n#EXTINF:4,\ns1.ts\n#EXT-X-ENDLIST\n")
    assert (event.kind, event.ended, event.last_sequence) == ("event", True, 1)
    master = parse_playlist(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=4000000,RESOLUTION=1920x1080\nhi.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlo.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180\ntiny.m3u8\n")
    assert choose_variant(master.variants, 320).uri == "tiny.m3u8"
    assert choose_variant(master.variants, 600).uri == "lo.m3u8"
    for text, reason in (
        ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n", "encrypted"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + "#EXTINF:2,\ns.ts\n" * 2001, "too_large"),
        ("#EXTM3U\n#EXTINF:2,\ns.ts\n", "playlist"),
    ):
        with pytest.raises(PlaylistError) as excinfo:
            parse_playlist(text)
        assert excinfo.value.reason == reason
