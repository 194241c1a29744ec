"""The RTSP redirect guard: its parser, and FFmpeg reading pinned cameras through the relay.

A hostile "camera" on loopback answers DESCRIBE with `302 Location:` pointing at a second
loopback listener (the witness). Unguarded, FFmpeg follows it (checked here too, so the
guarded assertions cannot pass by accident); through the relay nobody reaches the witness
and the feed reports reason `redirect`. A real GStreamer RTSP server still streams through
the relay.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import sitroom_cameras as plugin
from sitroom.api import SourceError
from sitroom.rtspguard import RelayBlocked, RtspRelay, ServerStreamGuard, relay_url
from sitroom.testing import SourceHarness
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.feed_av import AvFeed
from sitroom_cameras.source import coordinate, make_feed
from tests.cameras.conftest import RtspServer
from tests.cameras.fakertsp import RedirectingRtspServer, Witness
from tests.support import sample_value

# -- the parser ----------------------------------------------------------------------------


def reply(status: str = "200 OK", headers: str = "", body: bytes = b"") -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return f"RTSP/1.0 {status}\r\nCSeq: 1\r\n{headers}{length}\r\n".encode() + body


def frame(channel: int, payload: bytes) -> bytes:
    return b"$" + bytes([channel]) + len(payload).to_bytes(2, "big") + payload


def feed_bytewise(guard: ServerStreamGuard, data: bytes) -> bytes:
    return b"".join(guard.feed(data[i : i + 1]) for i in range(len(data)))


def test_ordinary_session_passes_unchanged_even_one_byte_at_a_time() -> None:
    # a body and a binary payload that look like a redirect must not be parsed as one
    sdp = b"v=0\r\nRTSP/1.0 302 Moved\r\nLocation: rtsp://169.254.169.254/\r\n\r\n"
    stream = (
        reply(headers="Public: DESCRIBE\r\n")
        + reply(headers="Content-Type: application/sdp\r\n", body=sdp)
        + frame(0, b"RTSP/1.0 302 x\r\nLocation: y\r\n\r\n" + bytes(range(256)) * 4)
        + frame(1, bytes(8))
        + b"\r\n"  # an empty line between messages (FFmpeg reads it as an empty reply)
        + reply()
    )
    assert ServerStreamGuard().feed(stream) == stream
    assert feed_bytewise(ServerStreamGuard(), stream) == stream


@pytest.mark.parametrize(
    "message",
    [
        reply("302 Moved", "Location: rtsp://169.254.169.254:80/\r\n"),
        reply("301 Moved Permanently", "Location: rtsp://127.0.0.1:1/\r\n"),
        reply("305 Use Proxy"),  # a 3xx without Location still goes nowhere
        reply("302abc Moved"),  # atoi reads 302
        reply("200 OK", "location:rtsp://[::1]/\r\n"),  # any Location, any spelling
        b"REDIRECT rtsp://cam/ RTSP/1.0\r\nCSeq: 9\r\n\r\n",  # server-sent request
        # FFmpeg drops every \r and ends lines at \n: the parser must read it the same way
        b"RTSP/1.0 200 OK\nCSeq: 1\nLoc\ration: rtsp://127.0.0.1:1/\n\n",
        b"RTSP/1.0 3\r02 Moved\nCSeq: 1\n\n",
    ],
)
def test_redirects_are_blocked_before_the_offending_line_passes(message: bytes) -> None:
    guard = ServerStreamGuard()
    before = reply() + frame(0, b"abcdefgh")
    assert guard.feed(before) == before
    passed = b""
    with pytest.raises(RelayBlocked) as caught:
        for i in range(len(message)):
            passed += guard.feed(message[i : i + 1])
    assert caught.value.reason == "redirect"
    assert b"ocation" not in passed.replace(b"\r", b"") and b"302" not in passed
    assert not passed.endswith(b"\n\n") and not passed.endswith(b"\n\r\n")


def test_a_redirect_cannot_hide_behind_a_disagreement_about_where_a_header_ends() -> None:
    """Header ended by a bare \\n\\n (as FFmpeg reads it) and a body holding \\r\\n\\r\\n: a
    parser that looked for \\r\\n\\r\\n would take the wrong body span and let the 302 through
    unparsed."""
    body = b"x" * 200 + b"\r\n\r\n" + b"y" * 796
    redirect = b"RTSP/1.0 302 Moved\r\nCSeq: 3\r\nLocation: rtsp://127.0.0.1:1/\r\n\r\n"
    stream = b"RTSP/1.0 200 OK\nCSeq: 2\nContent-Length: 1000\n\n" + body + redirect
    with pytest.raises(RelayBlocked):
        ServerStreamGuard().feed(stream)


def test_frames_inside_a_header_are_skipped_like_ffmpeg_skips_them() -> None:
    """A '$' frame at the start of a header line is not header text for FFmpeg; its payload
    must not count (a Content-Length in it would shift the body span)."""
    hidden = frame(0, b"Content-Length: 9999\n")
    stream = b"RTSP/1.0 200 OK\r\n" + hidden + b"CSeq: 1\r\n\r\n" + reply()
    assert ServerStreamGuard().feed(stream) == stream  # body 0: the next reply is parsed
    smuggle = b"RTSP/1.0 200 OK\r\n" + hidden + b"CSeq: 1\r\n\r\n" + reply("302 Moved")
    with pytest.raises(RelayBlocked):
        ServerStreamGuard().feed(smuggle)


@pytest.mark.parametrize(
    "junk",
    [
        reply(headers="Content-Length: 99999999\r\n"),
        frame(0, b"1234567"),  # shorter than any RTP/RTCP packet: FFmpeg reads it as text
        b"RTSP/1.0 200 OK\r\n\0Location: x\r\n\r\n",  # FFmpeg's C string ends at NUL
        b"RTSP/1.0 200 OK\r\nX-Pad: " + b"a" * 5000 + b"\r\n\r\n",  # FFmpeg would truncate
        b"X" * 10_000,  # a line that never ends
        # int32 wrap: FFmpeg reads -4294967295 as 1 and would desynchronise from the guard
        b"RTSP/1.0 200 OK\r\nContent-Length: -4294967295\r\n\r\n$X\n\n",
        b"RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"RTSP/1.0 4294967598 Moved\r\n\r\n",  # atoi wraps this status to 302
    ],
)
def test_what_ffmpeg_could_read_differently_is_cut(junk: bytes) -> None:
    with pytest.raises(RelayBlocked) as caught:
        ServerStreamGuard().feed(junk)
    assert caught.value.reason == "protocol"


def test_content_length_is_read_like_strtol() -> None:
    guard = ServerStreamGuard()
    # " 12abc" -> 12; a later Content-Length wins; the body passes unparsed
    head = b"RTSP/1.0 200 OK\r\nContent-Length: 3\r\nContent-Length:  12abc\r\n\r\n"
    body = b"Location: x\n"
    assert guard.feed(head + body + reply()) == head + body + reply()
    # " Content-Length" (leading space) is no Content-Length to FFmpeg, nor to the guard
    head = b"RTSP/1.0 200 OK\r\n Content-Length: 40\r\n\r\n"
    with pytest.raises(RelayBlocked):
        ServerStreamGuard().feed(head + reply("302 Moved"))


def test_relay_url_keeps_credentials_path_and_query() -> None:
    url = "rtsp://admin:p%40ss@[2001:db8::7]:8554/Streaming/101?channel=1"
    assert relay_url(url, 4321) == "rtsp://admin:p%40ss@127.0.0.1:4321/Streaming/101?channel=1"
    assert relay_url("rtsp://10.0.0.5/cam", 99) == "rtsp://127.0.0.1:99/cam"


def test_relay_takes_only_an_ip() -> None:
    with pytest.raises(ValueError):
        RtspRelay("camera.example", 554)


# -- FFmpeg through the relay -------------------------------------------------------------


@pytest.fixture
async def hostile() -> AsyncIterator[tuple[RedirectingRtspServer, Witness]]:
    witness = await Witness().start()
    server = await RedirectingRtspServer(f"rtsp://127.0.0.1:{witness.port}/x").start()
    yield server, witness
    await server.stop()
    await witness.stop()


def camera(url: str, **extra: Any) -> CameraConfig:
    return CameraConfig(name="guarded", url=url, timeout=5.0, **extra)


async def test_unguarded_ffmpeg_follows_the_redirect(
    hostile: tuple[RedirectingRtspServer, Witness],
) -> None:
    """The threat is real: without the relay FFmpeg connects to the Location by itself."""
    server, witness = hostile
    feed = AvFeed(f"rtsp://127.0.0.1:{server.port}/cam", name="bare", transport="rtsp_tcp",
                  options={"rtsp_transport": "tcp"}, open_timeout=5.0)
    with pytest.raises(SourceError):
        await feed.open()
    await feed.close()
    assert witness.connections >= 1


@pytest.mark.parametrize("header_only", [False, True])
async def test_pinned_feed_refuses_the_redirect(
    hostile: tuple[RedirectingRtspServer, Witness], header_only: bool
) -> None:
    server, witness = hostile
    server.header_only = header_only
    config = camera(f"rtsp://camera.invalid:{server.port}/cam", pin_address="127.0.0.1",
                    username="admin", password="pw-secret-1")
    feed = make_feed(config, ctx=None)
    with pytest.raises(SourceError) as caught:
        await feed.open()
    await feed.close()
    assert caught.value.reason == "redirect", caught.value
    assert "pw-secret-1" not in str(caught.value) and "rtsp://" not in str(caught.value)
    assert server.methods[:2] == ["OPTIONS", "DESCRIBE"]  # it did reach the camera
    assert witness.connections == 0


def test_pinned_rtsp_is_forced_onto_tcp_and_rtsps_is_refused() -> None:
    feed = make_feed(camera("rtsp://cam.example/live", pin_address="192.0.2.7",
                            transport="rtsp_udp"), ctx=None)
    assert feed.transport == "rtsp_tcp"
    assert feed._options["rtsp_transport"] == "tcp"  # type: ignore[attr-defined]
    unpinned = make_feed(camera("rtsp://cam.example/live", transport="rtsp_udp"), ctx=None)
    assert unpinned._options["rtsp_transport"] == "udp"  # type: ignore[attr-defined]
    with pytest.raises(SourceError) as caught:
        make_feed(camera("rtsps://cam.example/live", pin_address="192.0.2.7"), ctx=None)
    assert caught.value.reason == "config"


async def test_a_real_rtsp_session_streams_through_the_relay(rtsp_server: RtspServer) -> None:
    config = camera(f"rtsp://camera.invalid:{rtsp_server.port}/cam", pin_address="127.0.0.1",
                    rtsp_client="ffmpeg")
    feed = make_feed(config, ctx=None)
    relay = feed._relay  # type: ignore[attr-defined]
    assert isinstance(relay, RtspRelay)
    try:
        await feed.open()
        assert feed.codec == "h264" and feed.size == (320, 240)  # type: ignore[attr-defined]
        for _ in range(300):  # ~1.5 s of video at 10 fps, within 15 s
            if feed.stats.frames >= 15:
                break
            await asyncio.sleep(0.05)
        assert feed.stats.frames >= 15
        assert relay.connections >= 1 and relay.blocked is None
    finally:
        await feed.close()
    # closing the feed stops the relay: nothing listens on its port any more
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", relay.port)


async def test_a_pinned_camera_is_read_natively_at_its_pinned_address(
    rtsp_server: RtspServer,
) -> None:
    """The name does not resolve: frames can only come from the pinned IP, and sitroom's
    own reader follows no redirect, so no relay is needed."""
    config = camera(f"rtsp://camera.invalid:{rtsp_server.port}/cam", pin_address="127.0.0.1")
    feed = make_feed(config, ctx=None)
    try:
        await feed.open()
        for _ in range(300):
            if feed.stats.frames >= 15:
                break
            await asyncio.sleep(0.05)
        assert feed.stats.frames >= 15
        assert feed.client == "native"
        assert feed._relay is None  # type: ignore[attr-defined]
    finally:
        await feed.close()


async def test_a_pinned_camera_in_a_codec_of_ffmpeg_goes_through_the_relay(
    street_clip: Path,
) -> None:
    server = RtspServer(street_clip, "--codec", "jpeg")
    server.start()
    config = camera(f"rtsp://camera.invalid:{server.port}/cam", pin_address="127.0.0.1")
    feed = make_feed(config, ctx=None)
    try:
        await feed.open()
        for _ in range(300):
            if feed.stats.frames >= 10:
                break
            await asyncio.sleep(0.05)
        assert feed.stats.frames >= 10
        assert feed.client == "ffmpeg" and feed.mode == "jpeg"
        relay = feed._relay  # type: ignore[attr-defined]
        assert isinstance(relay, RtspRelay) and relay.connections >= 1
    finally:
        await feed.close()
        server.kill()
    with pytest.raises(OSError):  # closing the feed stopped the relay
        await asyncio.open_connection("127.0.0.1", relay.port)


# -- privacy of the info series ----------------------------------------------------------


def test_citizen_coordinates_are_rounded_to_about_100_m() -> None:
    assert coordinate(-6.9912344, "citizen") == "-6.991"
    assert coordinate(110.4198761, "citizen") == "110.420"
    assert coordinate(-6.9912344, "business") == "-6.991234"  # public places keep precision
    assert coordinate(None, "citizen") == ""


@pytest.mark.parametrize(
    ("owner_type", "latitude", "longitude"),
    [("citizen", "-6.991", "110.420"), ("business", "-6.991234", "110.419876")],
)
def test_info_series_rounds_only_citizens_locations(
    street_clip: Path, owner_type: str, latitude: str, longitude: str
) -> None:
    config = {"kind": "camera", "name": "home", "path": str(street_clip),
              "owner_type": owner_type, "latitude": -6.9912344, "longitude": 110.4198761}
    harness = SourceHarness.from_plugin(plugin, config)
    harness.source._declare()  # type: ignore[attr-defined]
    text = harness.render()
    assert sample_value(text, "sitroom_camera_info", camera="home", latitude=latitude,
                        longitude=longitude, owner_type=owner_type) == 1
    if owner_type == "citizen":
        assert "6.991234" not in text and "6.9912" not in text
