"""A small RTSP client for video over the RTSP connection itself (RTP interleaved on TCP).

Why not FFmpeg's: it reads interleaved RTP with a `poll()` and a `recv()` for every 4-byte
frame header and every RTP packet (~2,700 system calls a second for one 4 Mbit/s camera)
and wakes for every frame; that cost more CPU than decoding the keyframes it delivers
(bench/RESULTS.md). This client drains the socket in a few large reads per burst and
parses RTP headers with slicing only.

Scope, on purpose: RTSP 1.0 over plain TCP, one H.264 or H.265 video track, Basic or
Digest (MD5) authentication, keep-alives at half the session timeout, TEARDOWN on close.
It follows no redirect (a camera may not send us elsewhere). Anything else (UDP, rtsps://,
other codecs) raises `Unsupported` before any video is read, and FFmpeg takes over.
Nothing here logs or raises with the address or the credentials in it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from sitroom import SourceError
from sitroom_cameras.rtp import CODECS, Codec, parameter_sets_from_fmtp

MAX_HEADER = 64 * 1024  # bytes of one RTSP reply's head
MAX_BODY = 256 * 1024  # bytes of an SDP (or any reply body)
READ_SIZE = 256 * 1024
MAX_DRAIN = 16 * READ_SIZE  # bytes taken per drain: a flood cannot grow memory unbounded
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')
_RTP_TS = struct.Struct(">I")

RtpHandler = Callable[[bytes, int, bool], None]
"""Called per RTP packet of the video track: (payload, RTP timestamp, marker bit)."""


class Unsupported(Exception):
    """The camera wants something this client does not do; FFmpeg should read it."""


@dataclass
class Reply:
    status: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


@dataclass
class Track:
    codec: Codec
    control: str
    parameter_sets: list[bytes]
    clock_rate: int


def parse_sdp(sdp: str) -> tuple[Track | None, str | None]:
    """The first video track we can read, or (None, the name of the codec we cannot)."""
    unsupported = None
    for media in re.split(r"\r?\nm=", "\n" + sdp)[1:]:
        lines = media.splitlines()
        fields = lines[0].split()
        if not fields or fields[0] != "video" or len(fields) < 4:
            continue
        payload = fields[3]
        rtpmap = fmtp = None
        control = "*"
        for line in lines[1:]:
            if line.startswith(f"a=rtpmap:{payload} "):
                rtpmap = line.split(" ", 1)[1].strip()
            elif line.startswith(f"a=fmtp:{payload} "):
                fmtp = line.split(" ", 1)[1].strip()
            elif line.startswith("a=control:"):
                control = line[len("a=control:"):].strip()
        name, _, rate = (rtpmap or "").partition("/")
        codec = CODECS.get(name.upper())
        if codec is None:
            unsupported = unsupported or name or f"payload type {payload}"
            continue
        params = dict(item.strip().split("=", 1) for item in (fmtp or "").split(";")
                      if "=" in item)
        digits = rate.split("/")[0]
        clock = int(digits) if digits.isdigit() and 0 < int(digits) < 10**7 else 90000
        return Track(codec, control, parameter_sets_from_fmtp(codec, params), clock), None
    return None, unsupported


def resolve_control(base: str, control: str) -> str:
    if control == "*" or not control:
        return base
    if control.lower().startswith("rtsp://"):
        return control
    return base + control if base.endswith("/") else f"{base}/{control}"


class Digest:
    """RFC 2617 Digest (MD5) as cameras speak it, with or without qop=auth."""

    def __init__(self, params: dict[str, str], username: str, password: str) -> None:
        if params.get("algorithm", "MD5").upper() != "MD5":
            raise SourceError("auth", f"unsupported digest algorithm {params['algorithm']!r}")
        self.realm = params.get("realm", "")
        self.nonce = params.get("nonce", "")
        self.opaque = params.get("opaque")
        self.qop = "auth" if "auth" in params.get("qop", "").split(",") else None
        self.username, self.password = username, password
        self.count = 0

    def header(self, method: str, uri: str) -> str:
        def md5(text: str) -> str:
            return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

        ha1 = md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = md5(f"{method}:{uri}")
        parts = [f'username="{self.username}"', f'realm="{self.realm}"',
                 f'nonce="{self.nonce}"', f'uri="{uri}"']
        if self.qop:
            self.count += 1
            cnonce = secrets.token_hex(8)
            nc = f"{self.count:08x}"
            response = md5(f"{ha1}:{self.nonce}:{nc}:{cnonce}:auth:{ha2}")
            parts += [f'response="{response}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            parts.append(f'response="{md5(f"{ha1}:{self.nonce}:{ha2}")}"')
        if self.opaque is not None:
            parts.append(f'opaque="{self.opaque}"')
        return "Digest " + ", ".join(parts) + ", algorithm=MD5"


def _challenges(reply: Reply) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for value in reply.headers.get("www-authenticate", []):
        scheme, _, rest = value.strip().partition(" ")
        found[scheme.lower()] = {k.lower(): (a if a else b) for k, a, b in _PARAM.findall(rest)}
    return found


class RtspSession:
    """One RTSP session with one camera; blocking, for the camera's reader thread."""

    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 timeout: float = 10.0, name: str = "camera", connect_to: str | None = None
                 ) -> None:
        """`connect_to`: an IP to connect to instead of resolving the URL's host (a pinned
        camera); the requests still name the URL."""
        parts = urlsplit(url)
        if parts.scheme != "rtsp":
            raise Unsupported(f"{parts.scheme}://")
        host = parts.hostname or ""
        self._address = (connect_to or host, parts.port or 554)
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        self.url = urlunsplit(("rtsp", netloc, parts.path or "/", parts.query, ""))
        self._username = username if username is not None else (
            unquote(parts.username) if parts.username else None)
        self._password = password if password is not None else unquote(parts.password or "")
        self._timeout = timeout
        self._name = name
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._cseq = 0
        self._authorization: Callable[[str, str], str] | None = None
        self._session: str | None = None
        self._keepalive_every = 30.0
        self._keepalive_method = "OPTIONS"
        self._next_keepalive = 0.0
        self._channel = 0
        self.track: Track | None = None
        self.keepalives = 0  # sent while streaming
        self.replies_skipped = 0  # their replies, read past in the stream

    # -- handshake -------------------------------------------------------------------------

    def open(self) -> Track:
        """Connect, DESCRIBE, SETUP the video track on channels 0-1, PLAY."""
        try:
            self._sock = socket.create_connection(self._address, timeout=self._timeout)
        except OSError as exc:
            raise SourceError("connect", f"camera {self._name}: "
                                         f"{exc.strerror or type(exc).__name__}") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        options = self.request("OPTIONS", self.url)
        public = (options.header("public") or "").upper()
        if "GET_PARAMETER" in public:
            self._keepalive_method = "GET_PARAMETER"
        described = self.request("DESCRIBE", self.url, {"Accept": "application/sdp"})
        track, unsupported = parse_sdp(described.body.decode("utf-8", "replace"))
        if track is None:
            if unsupported:
                raise Unsupported(unsupported)
            raise SourceError("protocol", f"camera {self._name}: no video stream")
        base = described.header("content-base") or described.header("content-location")
        setup = self.request("SETUP", resolve_control(base or self.url, track.control),
                             {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        session = setup.header("session")
        if not session:
            raise SourceError("protocol", f"camera {self._name}: SETUP without a session")
        self._session, _, rest = session.partition(";")
        self._session = self._session.strip()
        match = re.search(r"timeout\s*=\s*(\d+)", rest)
        if match and int(match.group(1)) > 0:
            self._keepalive_every = max(5.0, int(match.group(1)) / 2)
        transport = setup.header("transport") or ""
        match = re.search(r"interleaved\s*=\s*(\d+)", transport)
        if "TCP" not in transport.upper() or match is None:
            raise Unsupported("no interleaved TCP transport")
        self._channel = int(match.group(1))
        self.request("PLAY", self.url, {"Range": "npt=0.000-"})
        self._next_keepalive = time.monotonic() + self._keepalive_every
        self.track = track
        return track

    def request(self, method: str, uri: str, headers: dict[str, str] | None = None) -> Reply:
        """Send one request and read its reply (before PLAY: nothing else is in flight)."""
        for attempt in range(2):
            self._send(method, uri, headers)
            reply = self._read_reply()
            if reply.status == 401 and attempt == 0 and self._use_challenge(reply):
                continue
            if 300 <= reply.status < 400 or reply.header("location") is not None:
                raise SourceError("redirect", f"camera {self._name}: RTSP redirect refused "
                                              "(the camera must be reached at its address)")
            if reply.status == 401:
                raise SourceError("auth", f"camera {self._name}: {method} refused "
                                          "(401: wrong or missing credentials)")
            if not 200 <= reply.status < 300:
                raise SourceError("protocol", f"camera {self._name}: {method} answered "
                                              f"{reply.status} {reply.reason[:40]}")
            return reply
        raise AssertionError("unreachable")

    def _use_challenge(self, reply: Reply) -> bool:
        if not self._username:
            return False
        challenges = _challenges(reply)
        user, password = self._username, self._password
        if "digest" in challenges:
            digest = Digest(challenges["digest"], user, password)
            self._authorization = digest.header
            return True
        if "basic" in challenges:
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._authorization = lambda _method, _uri: f"Basic {token}"
            return True
        return False

    def _send(self, method: str, uri: str, headers: dict[str, str] | None = None) -> None:
        assert self._sock is not None
        self._cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self._cseq}", "User-Agent: sitroom"]
        if self._authorization is not None:
            lines.append(f"Authorization: {self._authorization(method, uri)}")
        if self._session is not None:
            lines.append(f"Session: {self._session}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))

    def _read_reply(self) -> Reply:
        assert self._sock is not None
        while True:
            # a camera may already interleave RTP (or RTCP) frames: skip them
            while self._buffer.startswith(b"$") and len(self._buffer) >= 4:
                size = 4 + ((self._buffer[2] << 8) | self._buffer[3])
                if len(self._buffer) < size:
                    break
                self._buffer = self._buffer[size:]
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0 and not self._buffer.startswith(b"$"):
                head = self._buffer[:end].decode("latin-1")
                reply = _parse_head(head, self._name)
                length = int(reply.header("content-length") or 0)
                if length > MAX_BODY:
                    raise SourceError("protocol", f"camera {self._name}: reply too large")
                while len(self._buffer) < end + 4 + length:
                    self._receive()
                reply.body = self._buffer[end + 4:end + 4 + length]
                self._buffer = self._buffer[end + 4 + length:]
                return reply
            if len(self._buffer) > MAX_HEADER:
                raise SourceError("protocol", f"camera {self._name}: no RTSP reply")
            self._receive()

    def _receive(self) -> None:
        assert self._sock is not None
        try:
            chunk = self._sock.recv(READ_SIZE)
        except TimeoutError:
            raise SourceError("timeout", f"camera {self._name}: no RTSP reply within "
                                         f"{self._timeout:.0f}s") from None
        except OSError as exc:
            raise SourceError("disconnected", f"camera {self._name}: "
                                              f"{exc.strerror or type(exc).__name__}") from None
        if not chunk:
            raise SourceError("disconnected", f"camera {self._name}: connection closed")
        self._buffer += chunk

    # -- streaming -------------------------------------------------------------------------

    def start_streaming(self) -> None:
        assert self._sock is not None
        self._sock.setblocking(False)

    def drain(self) -> int:
        """Read whatever the kernel holds, without waiting; bytes read. Raises on EOF."""
        assert self._sock is not None
        chunks, total = [], 0
        while True:
            try:
                chunk = self._sock.recv(READ_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                raise SourceError("disconnected", f"camera {self._name}: "
                                                  f"{exc.strerror or type(exc).__name__}") from None
            if not chunk:
                raise SourceError("disconnected", f"camera {self._name}: connection closed")
            chunks.append(chunk)
            total += len(chunk)
            if len(chunk) < READ_SIZE or total >= MAX_DRAIN:
                break
        if chunks:
            self._buffer = self._buffer + b"".join(chunks) if self._buffer else b"".join(chunks)
        return total

    def wait_readable(self, seconds: float) -> bool:
        assert self._sock is not None
        readable, _, _ = select.select([self._sock], [], [], seconds)
        return bool(readable)

    def parse(self, on_rtp: RtpHandler) -> None:
        """Hand every complete RTP packet of the video channel to `on_rtp`; skip RTCP and
        RTSP replies (to keep-alives); keep an incomplete frame for the next read."""
        data, i = self._buffer, 0
        end = len(data)
        channel = self._channel
        unpack_ts = _RTP_TS.unpack_from
        while i + 4 <= end:
            if data[i] == 0x24:
                size = (data[i + 2] << 8) | data[i + 3]
                stop = i + 4 + size
                if stop > end:
                    break
                if data[i + 1] == channel and size >= 12 and data[i + 4] >> 6 == 2:
                    b0 = data[i + 4]
                    start = i + 16 + (b0 & 0x0F) * 4
                    last = stop
                    if b0 & 0x10 and start + 4 <= last:  # header extension
                        start += 4 + ((data[start + 2] << 8) | data[start + 3]) * 4
                    if b0 & 0x20:  # padding
                        last -= data[stop - 1]
                    if start < last:
                        on_rtp(data[start:last], unpack_ts(data, i + 8)[0],
                               bool(data[i + 5] & 0x80))
                i = stop
            elif data.startswith(b"RTSP/", i):
                head_end = data.find(b"\r\n\r\n", i)
                if head_end < 0:
                    if end - i > MAX_HEADER:
                        raise SourceError("protocol", f"camera {self._name}: bad RTSP reply")
                    break
                match = re.search(rb"(?im)^content-length:\s*(\d+)", data[i:head_end])
                length = int(match.group(1)) if match else 0
                if length > MAX_BODY:
                    raise SourceError("protocol", f"camera {self._name}: reply too large")
                stop = head_end + 4 + length
                if stop > end:
                    break
                self.replies_skipped += 1
                i = stop
            else:  # out of step: find the next frame
                found = data.find(b"$", i + 1)
                i = found if found >= 0 else end
        self._buffer = data[i:]

    def keepalive(self) -> None:
        """Refresh the session when due (its reply is skipped by `parse`)."""
        now = time.monotonic()
        if now < self._next_keepalive:
            return
        self._next_keepalive = now + self._keepalive_every
        assert self._sock is not None
        try:
            self._sock.setblocking(True)
            self._sock.settimeout(self._timeout)
            self._send(self._keepalive_method, self.url)
            self.keepalives += 1
        except OSError as exc:
            raise SourceError("disconnected", f"camera {self._name}: "
                                              f"{exc.strerror or type(exc).__name__}") from None
        finally:
            self._sock.setblocking(False)

    def close(self) -> None:
        """TEARDOWN (best effort, never waits for the reply) and close."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            if self._session is not None:
                self._sock = sock
                sock.settimeout(1.0)
                self._send("TEARDOWN", self.url)
        except OSError:
            pass
        finally:
            self._sock = None
            sock.close()


def _parse_head(head: str, name: str) -> Reply:
    lines = head.split("\r\n")
    match = re.match(r"RTSP/\d\.\d\s+(\d{3})\s*(.*)", lines[0])
    if match is None:
        raise SourceError("protocol", f"camera {name}: not an RTSP reply")
    reply = Reply(int(match.group(1)), match.group(2))
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep:
            reply.headers.setdefault(key.strip().lower(), []).append(value.strip())
    return reply
