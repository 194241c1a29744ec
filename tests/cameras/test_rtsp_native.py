"""sitroom's own RTSP/TCP reader: against GStreamer's real RTSP server, and byte by byte.

The server (tests/cameras/rtsp_server.py) streams real H.264 and H.265 files, asks for
Basic or Digest credentials when told to, and streams RTP/JPEG, which the reader must
leave to FFmpeg. The unit tests feed hand-built RTP and interleaved frames, including
broken ones.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import sitroom_cameras as plugin
from sitroom.api import SourceError
from sitroom.testing import SourceHarness
from sitroom_cameras.footage import SHIPPED_CLIP
from sitroom_cameras.rtp import H264, H265, Depacketizer, parameter_sets_from_fmtp
from sitroom_cameras.rtsp_client import RtspSession, parse_sdp, resolve_control
from tests.cameras.conftest import RtspServer, make_clip, wait_value

PASSWORD = "pa:ss@w0rd/ü"  # characters a URL would have to escape


def camera(name: str, url: str, **fields: object) -> dict[str, object]:
    return {"kind": "camera", "name": name, "url": url, "transport": "rtsp_tcp",
            "analysis_interval": 0.7, "timeout": 5, "stall_timeout": 4,
            "analysis": {"people": False}, **fields}


@pytest.fixture(scope="module")
def hevc_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clips") / "street-hevc.mp4"
    return make_clip(out, seconds=30, source=SHIPPED_CLIP, codec="libx265")


def serve(clip: Path, *extra: str) -> Iterator[RtspServer]:
    server = RtspServer(clip, *extra)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def hevc_server(hevc_clip: Path) -> Iterator[RtspServer]:
    yield from serve(hevc_clip, "--codec", "h265")


@pytest.fixture(params=["basic", "digest"])
def protected_server(request: pytest.FixtureRequest, street_clip: Path) -> Iterator[RtspServer]:
    yield from serve(street_clip, "--auth", request.param, "admin", PASSWORD)


@pytest.fixture
def jpeg_server(street_clip: Path) -> Iterator[RtspServer]:
    yield from serve(street_clip, "--codec", "jpeg")


# -- against the real server ---------------------------------------------------------------


@pytest.mark.parametrize("codec", ["h264", "h265"])
async def test_native_reader_streams_real_h264_and_h265(codec: str, request: pytest.FixtureRequest
                                                        ) -> None:
    server = request.getfixturevalue("rtsp_server" if codec == "h264" else "hevc_server")
    async with SourceHarness.from_plugin(plugin, camera("cam", server.url)) as h:
        task = h.start()
        cam = {"camera": "cam"}
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 3, **cam)
        feed = h.source.feed
        assert feed.client == "native" and feed.codec == {"h264": "h264", "h265": "hevc"}[codec]
        assert feed.mode == "keyframes"
        assert h.value("sitroom_camera_up", **cam) == 1
        assert h.value("sitroom_camera_width_pixels", **cam) == 320  # learnt by decoding
        assert h.value("sitroom_camera_height_pixels", **cam) == 240
        assert h.value("sitroom_camera_gop_frames", **cam) == 10
        fps = h.value("sitroom_camera_stream_frames_per_second", **cam)
        assert fps is not None and 9.5 <= fps <= 10.5, fps
        assert h.value("sitroom_camera_decode_errors_total", **cam) == 0
        assert h.source.last_report is not None and h.source.last_report.full_size == (320, 240)
        server.kill()
        await wait_value(h, "sitroom_camera_up", lambda v: v == 0, **cam)
        with pytest.raises(SourceError):
            await asyncio.wait_for(task, 15)


async def test_native_reader_authenticates(protected_server: RtspServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ok = camera("ok", protected_server.url, username="admin", password=PASSWORD)
    async with SourceHarness.from_plugin(plugin, ok) as h:
        h.start()
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 2,
                         camera="ok")
        assert h.source.feed.client == "native"
    wrong = camera("wrong", protected_server.url, username="admin", password=PASSWORD + "x")
    async with SourceHarness.from_plugin(plugin, wrong) as h:
        with pytest.raises(SourceError) as caught:
            await asyncio.wait_for(h.start(), 15)
    assert caught.value.reason == "auth", caught.value
    assert PASSWORD not in str(caught.value) and "rtsp://" not in str(caught.value)
    assert PASSWORD not in caplog.text


async def test_credentials_in_the_url_are_percent_decoded(protected_server: RtspServer) -> None:
    from urllib.parse import quote

    url = protected_server.url.replace("rtsp://", f"rtsp://admin:{quote(PASSWORD, safe='')}@")
    async with SourceHarness.from_plugin(plugin, camera("inline", url)) as h:
        h.start()
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 2,
                         camera="inline")


async def test_other_codecs_are_left_to_ffmpeg(jpeg_server: RtspServer) -> None:
    async with SourceHarness.from_plugin(plugin, camera("mjpeg", jpeg_server.url)) as h:
        h.start()
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 2,
                         camera="mjpeg")
        assert h.source.feed.client == "ffmpeg"
        assert h.source.feed.mode == "jpeg"


async def test_keepalives_are_sent_and_their_replies_skipped(rtsp_server: RtspServer) -> None:
    session = RtspSession(rtsp_server.url, timeout=5)
    track = session.open()
    units: list[bool] = []
    depacketizer = Depacketizer(track.codec, lambda key, ts, d: units.append(key),
                                track.parameter_sets)
    session._keepalive_every = 0.3  # the server's own timeout is 60 s
    session._next_keepalive = 0.0
    session.start_streaming()
    try:
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            if session.drain():
                session.parse(depacketizer.push)
                session.keepalive()
            else:
                session.wait_readable(0.1)
        assert session.keepalives >= 4
        assert session.replies_skipped >= session.keepalives - 1
        assert len(units) >= 15 and units.count(True) >= 1  # the video never stopped
        assert depacketizer.dropped == 0
    finally:
        session.close()


async def test_a_server_that_is_not_there_is_a_connect_error() -> None:
    from tests.support import free_port

    session = RtspSession(f"rtsp://127.0.0.1:{free_port()}/cam", timeout=2)
    with pytest.raises(SourceError) as caught:
        session.open()
    assert caught.value.reason == "connect"


# -- RTP to access units -------------------------------------------------------------------

SPS, PPS = b"\x67\x42\x00\x1f\xaa", b"\x68\xce\x3c\x80"
IDR = b"\x65" + bytes(range(200)) * 10
P_SLICE = b"\x41" + b"\x9a" * 300


def collect(codec=H264, params=None):  # type: ignore[no-untyped-def]
    units: list[tuple[bool, int, bytes]] = []
    dep = Depacketizer(codec, lambda key, ts, d: units.append((key, ts, d.annexb())), params)
    return dep, units


def fu_a(nal: bytes, size: int = 500) -> list[bytes]:
    header, body = nal[0], nal[1:]
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    out = []
    for n, chunk in enumerate(chunks):
        flags = (0x80 if n == 0 else 0) | (0x40 if n == len(chunks) - 1 else 0)
        out.append(bytes([(header & 0xE0) | 28, flags | (header & 0x1F)]) + chunk)
    return out


def stap_a(*nals: bytes) -> bytes:
    return b"\x18" + b"".join(struct.pack(">H", len(n)) + n for n in nals)


def test_a_fragmented_keyframe_with_aggregated_parameter_sets() -> None:
    dep, units = collect()
    dep.push(stap_a(SPS, PPS), 9000, False)
    fragments = fu_a(IDR)
    for i, fragment in enumerate(fragments):
        dep.push(fragment, 9000, i == len(fragments) - 1)
    dep.push(P_SLICE, 12600, True)
    assert [(key, ts) for key, ts, _ in units] == [(True, 9000), (False, 12600)]
    sc = b"\x00\x00\x00\x01"
    assert units[0][2] == sc + SPS + sc + PPS + sc + IDR  # reassembled exactly
    assert units[1][2] == sc + P_SLICE


def test_parameter_sets_from_the_sdp_go_before_a_bare_keyframe() -> None:
    sprop = ",".join(base64.b64encode(n).decode() for n in (SPS, PPS))
    params = parameter_sets_from_fmtp(H264, {"sprop-parameter-sets": sprop + ",!!bad!!"})
    assert params == [SPS, PPS]  # the malformed entry is skipped
    dep, units = collect(params=params)
    dep.push(IDR, 1, True)
    sc = b"\x00\x00\x00\x01"
    assert units == [(True, 1, sc + SPS + sc + PPS + sc + IDR)]


def test_a_lost_marker_ends_the_unit_at_the_next_timestamp() -> None:
    dep, units = collect()
    dep.push(P_SLICE, 100, False)  # marker lost
    dep.push(P_SLICE, 200, True)
    assert [ts for _, ts, _ in units] == [100, 200]


def test_lost_fragments_drop_the_nal_unit_and_are_counted() -> None:
    dep, units = collect()
    fragments = fu_a(IDR)
    dep.push(fragments[1], 5, False)  # a middle fragment without its start
    dep.push(fragments[0], 6, False)
    dep.push(P_SLICE, 7, True)  # the unit with the open fragment ends at a new timestamp
    assert dep.dropped == 2
    assert [(key, ts) for key, ts, _ in units] == [(False, 7)]


@pytest.mark.parametrize("payload", [b"", b"\x1c", b"\x1c\x85", b"\x18\x00\x05ab",
                                     b"\x18\x00\x00", b"\x18\xff"])
def test_malformed_payloads_are_ignored(payload: bytes) -> None:
    dep, units = collect()
    dep.push(payload, 1, False)
    dep.push(P_SLICE, 2, True)
    assert [ts for _, ts, _ in units if ts == 2] == [2]
    assert all(not key for key, _, _ in units)


def test_h265_fragmentation_and_aggregation() -> None:
    vps, sps, pps = b"\x40\x01\x0c", b"\x42\x01\x01", b"\x44\x01\xc1"
    idr = b"\x26\x01" + b"\x55" * 900  # IDR_W_RADL (type 19)
    dep, units = collect(H265)
    dep.push(b"\x60\x01" + b"".join(struct.pack(">H", len(n)) + n for n in (vps, sps, pps)),
             3, False)  # AP (type 48)
    body = idr[2:]
    parts = [body[:400], body[400:800], body[800:]]
    for i, part in enumerate(parts):
        flags = (0x80 if i == 0 else 0) | (0x40 if i == 2 else 0)
        dep.push(b"\x62\x01" + bytes([flags | 19]) + part, 3, i == 2)  # FU (type 49)
    sc = b"\x00\x00\x00\x01"
    assert units == [(True, 3, sc + vps + sc + sps + sc + pps + sc + idr)]


# -- interleaved frames and SDP ------------------------------------------------------------


def rtp(payload: bytes, ts: int, marker: bool, *, csrc: int = 0, extension: bytes = b"",
        padding: int = 0) -> bytes:
    b0 = 0x80 | csrc | (0x10 if extension else 0) | (0x20 if padding else 0)
    header = struct.pack(">BBHII", b0, (0x80 if marker else 0) | 96, 1, ts, 0x1234)
    header += b"\x00\x00\x00\x01" * csrc
    if extension:
        header += struct.pack(">HH", 0xBEDE, len(extension) // 4) + extension
    tail = (b"\x00" * (padding - 1) + bytes([padding])) if padding else b""
    return header + payload + tail


def interleaved(channel: int, packet: bytes) -> bytes:
    return struct.pack(">BBH", 0x24, channel, len(packet)) + packet


def test_interleaved_stream_parsing_skips_what_is_not_video() -> None:
    session = RtspSession("rtsp://127.0.0.1:1/cam")
    packets: list[tuple[bytes, int, bool]] = []
    stream = (
        interleaved(0, rtp(b"\x41one", 10, False, csrc=2, extension=b"\x01\x02\x03\x04",
                           padding=3))
        + interleaved(1, b"\x80\xc8" + b"\x00" * 26)  # RTCP sender report
        + b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nContent-Length: 4\r\n\r\nabcd"  # keep-alive reply
        + b"junk"  # out of step: resynchronised at the next '$'
        + interleaved(0, rtp(b"\x41two", 20, True))
    )
    tail = interleaved(0, rtp(b"\x41three", 30, True))
    session._buffer = stream + tail[:9]
    session.parse(lambda payload, ts, marker: packets.append((payload, ts, marker)))
    assert packets == [(b"\x41one", 10, False), (b"\x41two", 20, True)]
    assert session.replies_skipped == 1
    assert session._buffer == tail[:9]  # an incomplete frame waits for the rest
    session._buffer += tail[9:]
    session.parse(lambda payload, ts, marker: packets.append((payload, ts, marker)))
    assert packets[-1] == (b"\x41three", 30, True) and session._buffer == b""


SDP = """v=0\r
o=- 1 1 IN IP4 127.0.0.1\r
s=cam\r
t=0 0\r
m=audio 0 RTP/AVP 0\r
a=control:trackID=0\r
m=video 0 RTP/AVP 97\r
a=rtpmap:97 H264/90000\r
a=fmtp:97 packetization-mode=1; sprop-parameter-sets={sprop}\r
a=control:trackID=1\r
"""


def test_sdp_picks_the_video_track_and_its_parameter_sets() -> None:
    sprop = ",".join(base64.b64encode(n).decode() for n in (SPS, PPS))
    track, unsupported = parse_sdp(SDP.format(sprop=sprop))
    assert track is not None and unsupported is None
    assert track.codec is H264 and track.control == "trackID=1" and track.clock_rate == 90000
    assert track.parameter_sets == [SPS, PPS]
    mjpeg = "v=0\r\nm=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\n"
    assert parse_sdp(mjpeg) == (None, "JPEG")
    assert parse_sdp("v=0\r\nm=audio 0 RTP/AVP 0\r\n") == (None, None)


@pytest.mark.parametrize(("base", "control", "expected"), [
    ("rtsp://cam/live", "trackID=1", "rtsp://cam/live/trackID=1"),
    ("rtsp://cam/live/", "trackID=1", "rtsp://cam/live/trackID=1"),
    ("rtsp://cam/live", "*", "rtsp://cam/live"),
    ("rtsp://cam/live", "rtsp://cam/live/video", "rtsp://cam/live/video"),
])
def test_control_urls_resolve_against_the_base(base: str, control: str, expected: str) -> None:
    assert resolve_control(base, control) == expected


def test_only_plain_rtsp_is_spoken() -> None:
    from sitroom_cameras.rtsp_client import Unsupported

    with pytest.raises(Unsupported):
        RtspSession("rtsps://cam/live")
    session = RtspSession("rtsp://user:secret@cam:8554/live?ch=1")
    assert session.url == "rtsp://cam:8554/live?ch=1"  # never the credentials on the wire
    assert session._username == "user" and session._password == "secret"


def test_a_unit_that_never_ends_is_cut_not_hoarded() -> None:
    from sitroom_cameras.rtp import MAX_UNIT

    dep, units = collect()
    start = fu_a(IDR + b"\x00" * 60_000, size=60_000)[0]  # a first fragment (start bit)
    middle = start[:1] + bytes([start[1] & 0x3F]) + start[2:]  # neither start nor end
    dep.push(start, 1, False)
    for _ in range(MAX_UNIT // len(middle) + 2):  # same timestamp, never a marker
        dep.push(middle, 1, False)
    assert dep.dropped >= 1 and dep._size < MAX_UNIT and dep._fragment is None
    dep.push(P_SLICE, 2, True)
    assert [ts for _, ts, _ in units] == [2]


def test_a_reply_announcing_a_huge_body_fails_the_camera() -> None:
    session = RtspSession("rtsp://127.0.0.1:1/cam")
    session._buffer = b"RTSP/1.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n"
    with pytest.raises(SourceError) as caught:
        session.parse(lambda *a: None)
    assert caught.value.reason == "protocol"


def test_a_zero_clock_rate_in_the_sdp_is_ignored() -> None:
    track, _ = parse_sdp("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/0\r\n")
    assert track is not None and track.clock_rate == 90000


# -- a hostile camera (citizens register cameras by IP) -----------------------------------


class HostileCamera:
    """Answers each RTSP request with whatever `answer(method, cseq)` returns."""

    def __init__(self, answer) -> None:  # type: ignore[no-untyped-def]
        self.answer = answer
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> HostileCamera:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                    method = head.split(" ", 1)[0]
                    cseq = next((line.split(":", 1)[1].strip() for line in head.split("\r\n")
                                 if line.lower().startswith("cseq:")), "0")
                    writer.write(self.answer(method, cseq))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        self._server = await asyncio.start_server(serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"


def ok(cseq: str, headers: str = "", body: bytes = b"") -> bytes:
    return (f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
            .encode() + body)


GOOD_SDP = b"v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:t1\r\n"


def scripted(describe: bytes = b"", setup_headers: str = "Session: 1\r\nTransport: "
             "RTP/AVP/TCP;unicast;interleaved=0-1\r\n", raw: dict[str, bytes] | None = None):  # type: ignore[no-untyped-def]
    def answer(method: str, cseq: str) -> bytes:
        if raw and method in raw:
            return raw[method].replace(b"{cseq}", cseq.encode())
        if method == "DESCRIBE":
            return ok(cseq, "Content-Type: application/sdp\r\n", describe or GOOD_SDP)
        if method == "SETUP":
            return ok(cseq, setup_headers)
        return ok(cseq)
    return answer


@pytest.mark.parametrize("answer", [
    scripted(raw={"DESCRIBE": b"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Length: abc\r\n\r\n"}),
    scripted(raw={"DESCRIBE": b"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Length: "
                              + b"9" * 5000 + b"\r\n\r\n"}),
    scripted(raw={"DESCRIBE": b"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Length: -5\r\n\r\n"}),
    scripted(raw={"OPTIONS": b"HTTP/1.1 200 OK\r\n\r\n"}),
    scripted(describe=b"v=0\r\nm="),
    scripted(setup_headers="Session: 1\r\nTransport: RTP/AVP/TCP;interleaved=" + "7" * 5000
             + "\r\n"),
    scripted(setup_headers="Transport: RTP/AVP/TCP;interleaved=0-1\r\n"),  # no session
    scripted(raw={"DESCRIBE": b"RTSP/1.0 401 No\r\nCSeq: {cseq}\r\nWWW-Authenticate: Digest "
                              + b"a" * 65000 + b"\r\n\r\n"}),
    scripted(raw={"DESCRIBE": b"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nLocation: rtsp://10.0.0.1/"
                              b"\r\nContent-Length: 0\r\n\r\n"}),
])
async def test_a_hostile_camera_gets_a_clear_error_and_nothing_else(answer) -> None:  # type: ignore[no-untyped-def]
    """Every malformed reply ends in a SourceError (or a hand-over to FFmpeg), never in
    another exception, a hang or a connection elsewhere."""
    from sitroom_cameras.rtsp_client import Unsupported

    async with HostileCamera(answer) as camera_:
        session = RtspSession(camera_.url, username="admin", password=PASSWORD, timeout=3)
        try:
            with pytest.raises((SourceError, Unsupported)) as caught:
                await asyncio.to_thread(session.open)
        finally:
            session.close()
    assert PASSWORD not in str(caught.value)
    if isinstance(caught.value, SourceError):
        assert caught.value.reason in ("protocol", "auth", "redirect", "timeout"), caught.value


@pytest.mark.parametrize("answer", [
    scripted(describe=b"v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/\xc2\xb2\r\n"),
    scripted(setup_headers="Session: 1;timeout=" + "9" * 400 + "\r\nTransport: "
             "RTP/AVP/TCP;interleaved=0-1\r\n"),
])
async def test_odd_but_harmless_values_fall_back_to_defaults(answer) -> None:  # type: ignore[no-untyped-def]
    async with HostileCamera(answer) as camera_:
        session = RtspSession(camera_.url, timeout=3)
        try:
            track = await asyncio.to_thread(session.open)
        finally:
            session.close()
    assert track.clock_rate == 90000  # the RTP clock of video
    assert session._keepalive_every == 30.0  # RTSP's default session timeout, halved


async def test_a_camera_that_never_answers_lets_go_when_stopped() -> None:
    """RTP-looking bytes, never a reply: the handshake waits no longer than asked to stop."""
    import threading

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            for _ in range(200):
                writer.write(b"$\x00\x00\x00")
                await writer.drain()
                await asyncio.sleep(0.1)
        writer.close()

    import contextlib

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stop = threading.Event()
    session = RtspSession(f"rtsp://127.0.0.1:{port}/cam", timeout=60, stop=stop)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            session.open()
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.to_thread(thread.join, 5)
    server.close()
    session.close()
    assert not thread.is_alive()
    assert isinstance(outcome[0], SourceError) and outcome[0].reason == "stopped"


def test_digest_is_chosen_with_md5_and_qop_auth_whatever_the_order() -> None:
    from sitroom_cameras.rtsp_client import Reply

    session = RtspSession("rtsp://127.0.0.1:1/cam", username="u", password="p")
    reply = Reply(401, "Unauthorized", {"www-authenticate": [
        'Digest realm="cam", nonce="n1", algorithm=SHA-256, qop="auth"',
        'Digest realm="cam", nonce="n2", qop="auth-int, auth", opaque="o"',
        'Basic realm="cam"',
    ]})
    assert session._use_challenge(reply)
    assert session._authorization is not None
    header = session._authorization("DESCRIBE", "rtsp://127.0.0.1:1/cam")
    assert header.startswith("Digest ") and 'nonce="n2"' in header
    assert "qop=auth" in header and 'opaque="o"' in header and "nc=00000001" in header
    only_sha = Reply(401, "Unauthorized", {"www-authenticate": [
        'Digest realm="cam", nonce="n1", algorithm=SHA-256']})
    with pytest.raises(SourceError) as caught:
        session._use_challenge(only_sha)
    assert caught.value.reason == "auth" and "SHA" not in str(caught.value)


def test_a_flood_of_tiny_frames_fails_instead_of_eating_memory() -> None:
    from sitroom_cameras.rtsp_client import MAX_BUFFERED, MAX_PACKETS

    session = RtspSession("rtsp://127.0.0.1:1/cam")
    frame = interleaved(0, rtp(b"\x41x", 1, False))
    session._buffer = frame * (MAX_BUFFERED // len(frame) + MAX_PACKETS + 10)
    seen: list[int] = []
    with pytest.raises(SourceError) as caught:
        session.parse(lambda payload, ts, marker: seen.append(ts))
    assert caught.value.reason == "protocol"
    assert len(seen) == MAX_PACKETS  # bounded work per call


def test_keepalive_replies_are_acted_on() -> None:
    session = RtspSession("rtsp://127.0.0.1:1/cam", username="u", password="p")
    session._keepalive_method = "GET_PARAMETER"
    session._buffer = b"RTSP/1.0 405 Method Not Allowed\r\nCSeq: 7\r\n\r\n"
    session.parse(lambda *a: None)
    assert session._keepalive_method == "OPTIONS"  # the camera does not know GET_PARAMETER
    session._buffer = (b"RTSP/1.0 401 Unauthorized\r\nCSeq: 8\r\n"
                       b'WWW-Authenticate: Digest realm="r", nonce="fresh"\r\n\r\n')
    session.parse(lambda *a: None)
    assert session._authorization is not None  # a stale nonce: the next one uses "fresh"
    assert 'nonce="fresh"' in session._authorization("OPTIONS", session.url)
    session._buffer = b"RTSP/1.0 454 Session Not Found\r\nCSeq: 9\r\n\r\n"
    with pytest.raises(SourceError) as caught:
        session.parse(lambda *a: None)
    assert caught.value.reason == "disconnected"


async def test_sockets_numbered_above_1024_work(rtsp_server: RtspServer) -> None:
    """A daemon with hundreds of cameras has descriptors above select()'s limit of 1024."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard descriptor limit ({hard}) is below 1200 here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = []
    try:
        while not filler or filler[-1] < 1030:
            filler.append(os.open("/dev/null", os.O_RDONLY))
        session = RtspSession(rtsp_server.url, timeout=5)
        track = session.open()
        assert session._sock is not None and session._sock.fileno() > 1024
        units: list[bool] = []
        depacketizer = Depacketizer(track.codec, lambda key, ts, d: units.append(key))
        session.start_streaming()
        try:
            deadline = time.monotonic() + 10
            while len(units) < 5 and time.monotonic() < deadline:
                if session.drain():
                    session.parse(depacketizer.push)
                else:
                    session.wait_readable(0.2)
        finally:
            session.close()
        assert len(units) >= 5
    finally:
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_frames_lost_to_an_overflowing_queue_are_counted() -> None:
    import av

    from sitroom_cameras import feed_av
    from sitroom_cameras.feed_av import AvFeed

    feed = AvFeed("/dev/null", name="t", transport="rtsp_tcp", interval=1.0)
    feed.nominal_fps = 25.0
    for i in range(feed_av.MAX_QUEUE + 60):  # one keyframe, then a GOP that never ends
        packet = av.Packet(b"\x00" * 100)
        packet.is_keyframe = i == 0
        feed._on_frame(packet.is_keyframe, packet, media_time=i / 25)
    assert feed.mode == "all"
    assert feed.lost == feed_av.MAX_QUEUE + 1  # the whole queue went at once
