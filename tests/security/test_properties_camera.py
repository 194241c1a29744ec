"""Property tests: the camera side's parsers of bytes a hostile camera or relay controls.

Each parser may refuse input only with its documented exception (SourceError, RelayBlocked,
FrameTooLarge); any other exception is a bug an attacker can aim at the reader thread.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sitroom.api import SourceError
from sitroom.rtspguard import RelayBlocked, ServerStreamGuard
from sitroom_cameras.feed_http import FrameTooLarge, MultipartSplitter
from sitroom_cameras.rtp import H264, H265, Depacketizer
from sitroom_cameras.rtsp_client import (
    MAX_BUFFERED,
    Reply,
    RtspSession,
    _challenges,
    _parse_head,
    parse_sdp,
)

# RTSP-ish text: the tokens that steer the parsers, glued with arbitrary text
TOKENS = st.sampled_from([
    "RTSP/1.0 ", "200", "302", "401", "454", " OK", "\r\n", "\n", "\r", ":", "Content-Length",
    "content-length: ", "Location: rtsp://10.0.0.1/", "WWW-Authenticate: Digest ", "realm=\"",
    "nonce=", "qop=auth", "$", "\x00", "-1", "99999999999999999999", "m=video 0 RTP/AVP 96",
    "a=rtpmap:96 H264/90000", "a=rtpmap:96 H265/", "a=fmtp:96 sprop-parameter-sets=",
    "Z0IAKeKQFAe2AtwEBAaQeJEV,aM48gA==", "a=control:", "trackID=1", "REDIRECT ", "=", ";", ",",
])
RTSP_TEXT = st.lists(st.one_of(TOKENS, st.text(max_size=20)), max_size=40).map("".join)
BYTES = st.one_of(st.binary(max_size=4096), RTSP_TEXT.map(lambda t: t.encode("utf-8",
                                                                            "surrogatepass")))


@given(RTSP_TEXT)
def test_sdp_parser_never_raises(sdp: str) -> None:
    track, unsupported = parse_sdp(sdp)
    assert track is None or track.clock_rate > 0


@given(RTSP_TEXT)
def test_reply_head_parser_raises_only_source_error(head: str) -> None:
    try:
        reply = _parse_head(head, "cam")
    except SourceError as exc:
        assert exc.reason == "protocol"
        return
    assert 0 <= reply.status <= 999
    _challenges(reply)


@given(st.lists(RTSP_TEXT, max_size=4))
def test_challenge_parser_never_raises(values: list[str]) -> None:
    _challenges(Reply(401, "Unauthorized", {"www-authenticate": values}))


@given(st.lists(BYTES, max_size=8))
def test_interleaved_stream_parser_raises_only_source_error(chunks: list[bytes]) -> None:
    session = RtspSession("rtsp://127.0.0.1/x", name="cam")
    packets: list[tuple[bytes, int, bool]] = []
    try:
        for chunk in chunks:
            session._buffer += chunk
            session.parse(lambda payload, ts, marker: packets.append((payload, ts, marker)))
    except SourceError as exc:
        assert exc.reason in {"protocol", "disconnected"}
    assert len(session._buffer) <= MAX_BUFFERED + 4096
    assert all(payload for payload, _, _ in packets)


@given(st.sampled_from([H264, H265]),
       st.lists(st.tuples(st.binary(max_size=300), st.integers(0, 2**32 - 1), st.booleans()),
                max_size=30),
       st.lists(st.binary(max_size=40), max_size=3))
def test_depacketizer_never_raises(codec, packets, parameter_sets) -> None:
    units: list[bytes] = []

    def on_unit(key: bool, timestamp: int, unit: Depacketizer) -> None:
        units.append(unit.annexb())

    depacketizer = Depacketizer(codec, on_unit, [p for p in parameter_sets if p])
    for payload, timestamp, marker in packets:
        depacketizer.push(payload, timestamp, marker)
    assert all(unit.startswith(b"\x00\x00\x00\x01") for unit in units)


@given(st.lists(BYTES, max_size=8))
def test_rtsp_guard_raises_only_relay_blocked_and_forwards_a_prefix(chunks: list[bytes]) -> None:
    guard = ServerStreamGuard()
    sent = b"".join(chunks)
    forwarded = b""
    try:
        for chunk in chunks:
            forwarded += guard.feed(chunk)
    except RelayBlocked as exc:
        assert exc.reason in {"protocol", "redirect"}
    assert sent.startswith(forwarded)  # it only ever forwards what it was given, in order


@given(st.binary(min_size=1, max_size=12), st.lists(st.binary(max_size=600), max_size=12))
def test_mjpeg_splitter_parts_come_from_the_stream(marker: bytes, chunks: list[bytes]) -> None:
    splitter = MultipartSplitter(marker, 2048)
    stream = b"".join(chunks)
    parts: list[bytes] = []
    try:
        for chunk in chunks:
            parts.extend(splitter.feed(chunk))
    except FrameTooLarge:
        return
    for part in parts:
        assert marker + part + marker in stream
