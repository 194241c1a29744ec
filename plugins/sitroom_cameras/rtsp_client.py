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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from sitroom.api import SourceError
from sitroom_cameras.rtp import CODECS, Codec, parameter_sets_from_fmtp

# What a camera (possibly a hostile one: citizens register cameras by IP) may send us.
MAX_HEADER = 64 * 1024  # bytes of one RTSP reply's head
MAX_BODY = 256 * 1024  # bytes of an SDP (or any reply body)
MAX_CHALLENGE = 4096  # bytes of a WWW-Authenticate value we parse
MAX_SKIPPED = 1024 * 1024  # bytes of RTP a camera may send before answering a request
READ_SIZE = 256 * 1024
MAX_DRAIN = 8 * READ_SIZE  # bytes per drain: 0.5 s of a 32 Mbit/s camera
MAX_BUFFERED = 2 * MAX_DRAIN  # bytes not yet parsed: more means it sends faster than we read
MAX_PACKETS = 8192  # RTP packets per parse() (a 40 Mbit/s camera sends ~1,800 per 0.5 s)
SLICE = 0.25  # s: blocking waits are cut into slices to notice a stop request
# the lookbehind keeps the scan linear: without it a long word without "=" is tried from
# every position, quadratic, with the GIL held (a 64 KiB challenge froze the daemon 75 s)
_PARAM = re.compile(r'(?<!\w)(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')
_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*([^\r\n]*)")
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
        fields = lines[0].split() if lines else []
        if len(fields) < 4 or fields[0] != "video":
            continue
        rtpmap: dict[str, str] = {}
        fmtp: dict[str, str] = {}
        control = "*"
        for line in lines[1:]:
            key, _, value = line.partition(":")
            if key in ("a=rtpmap", "a=fmtp"):
                payload, _, rest = value.partition(" ")
                (rtpmap if key == "a=rtpmap" else fmtp)[payload.strip()] = rest.strip()
            elif key == "a=control":
                control = value.strip()
        for payload in fields[3:]:
            name, _, rate = rtpmap.get(payload, "").partition("/")
            codec = CODECS.get(name.upper())
            if codec is None:
                unsupported = unsupported or name or f"payload type {payload}"
                continue
            params = dict(item.strip().split("=", 1) for item in fmtp.get(payload, "").split(";")
                          if "=" in item)
            digits = rate.split("/")[0]
            clock = int(digits) if re.fullmatch(r"[0-9]{1,7}", digits) else 0
            return Track(codec, control, parameter_sets_from_fmtp(codec, params),
                         clock or 90000), None
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
        self.realm = params.get("realm", "")
        self.nonce = params.get("nonce", "")
        self.opaque = params.get("opaque")
        offered = {q.strip().lower() for q in params.get("qop", "").split(",")}
        self.qop = "auth" if "auth" in offered else None
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


def _challenges(reply: Reply) -> list[tuple[str, dict[str, str]]]:
    """(scheme, parameters) of each WWW-Authenticate value, in the camera's order."""
    found = []
    for value in reply.headers.get("www-authenticate", []):
        scheme, _, rest = value.strip()[:MAX_CHALLENGE].partition(" ")
        found.append((scheme.lower(),
                      {k.lower(): (a if a else b) for k, a, b in _PARAM.findall(rest)}))
    return found


def _number(text: str | bytes | None, name: str, what: str, limit: int) -> int:
    """A decimal header field, or a `protocol` error naming the camera (never the value)."""
    if text is None:
        return 0
    value = text.decode("latin-1") if isinstance(text, bytes) else text
    value = value.strip()
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) > limit:
        raise SourceError("protocol", f"camera {name}: bad {what}")
    return int(value)


class RtspSession:
    """One RTSP session with one camera; blocking, for the camera's reader thread."""

    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 timeout: float = 10.0, name: str = "camera", connect_to: str | None = None,
                 stop: threading.Event | None = None) -> None:
        """`connect_to`: an IP to connect to instead of resolving the URL's host (a pinned
        camera); the requests still name the URL. `stop` ends any wait within SLICE s."""
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
        self._deadline = 0.0  # of the request in flight
        self._stop = stop or threading.Event()
        self._name = name
        self._sock: socket.socket | None = None
        self._poll: select.poll | None = None  # not select(): descriptors above 1024 exist
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
        match = re.search(r"timeout\s*=\s*([0-9]{1,6})(?![0-9])", rest)
        if match and int(match.group(1)) > 0:
            self._keepalive_every = max(5.0, int(match.group(1)) / 2)
        transport = setup.header("transport") or ""
        match = re.search(r"interleaved\s*=\s*([0-9]{1,3})(?![0-9])", transport)
        if "TCP" not in transport.upper() or match is None or int(match.group(1)) > 255:
            raise Unsupported("no interleaved TCP transport")
        self._channel = int(match.group(1))
        self.request("PLAY", self.url, {"Range": "npt=0.000-"})
        self._next_keepalive = time.monotonic() + self._keepalive_every
        self.track = track
        return track

    def request(self, method: str, uri: str, headers: dict[str, str] | None = None) -> Reply:
        """Send one request and read its reply (before PLAY: nothing else is in flight)."""
        for attempt in range(2):
            self._deadline = time.monotonic() + self._timeout
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
        user, password = self._username, self._password
        challenges = _challenges(reply)
        for scheme, params in challenges:  # Digest with MD5 first, whatever the order
            if scheme == "digest" and params.get("algorithm", "MD5").upper() == "MD5":
                self._authorization = Digest(params, user, password).header
                return True
        if any(scheme == "basic" for scheme, _ in challenges):
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._authorization = lambda _method, _uri: f"Basic {token}"
            return True
        if any(scheme == "digest" for scheme, _ in challenges):
            raise SourceError("auth", f"camera {self._name}: digest algorithm not supported "
                                      "(only MD5; try rtsp_client: ffmpeg)")
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
        try:
            self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        except OSError as exc:
            raise SourceError("disconnected", f"camera {self._name}: "
                                              f"{exc.strerror or type(exc).__name__}") from None

    def _read_reply(self) -> Reply:
        assert self._sock is not None
        skipped = 0
        while True:
            data, i = self._buffer, 0
            # a camera may already interleave RTP (or RTCP) frames: skip them
            while len(data) - i >= 4 and data[i] == 0x24:
                size = 4 + ((data[i + 2] << 8) | data[i + 3])
                if len(data) - i < size:
                    break
                i += size
            if i:
                skipped += i
                self._buffer = data = data[i:]
                if skipped > MAX_SKIPPED:
                    raise SourceError("protocol", f"camera {self._name}: no RTSP reply")
            end = data.find(b"\r\n\r\n", 0, MAX_HEADER)
            if end >= 0 and not data.startswith(b"$"):
                reply = _parse_head(data[:end].decode("latin-1"), self._name)
                length = _number(reply.header("content-length"), self._name,
                                 "Content-Length", MAX_BODY)
                while len(self._buffer) < end + 4 + length:
                    self._receive()
                reply.body = self._buffer[end + 4:end + 4 + length]
                self._buffer = self._buffer[end + 4 + length:]
                return reply
            if len(data) > MAX_HEADER:
                raise SourceError("protocol", f"camera {self._name}: no RTSP reply")
            self._receive()

    def _receive(self) -> None:
        """Wait for more of a reply: until the request's deadline, in slices, so a stop
        request (the camera was removed, the daemon stops) is heard within SLICE s."""
        assert self._sock is not None
        while True:
            if self._stop.is_set():
                raise SourceError("stopped", f"camera {self._name}: stopped")
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise SourceError("timeout", f"camera {self._name}: no RTSP reply within "
                                             f"{self._timeout:.0f}s")
            self._sock.settimeout(min(left, SLICE))
            try:
                chunk = self._sock.recv(READ_SIZE)
            except TimeoutError:
                continue
            except OSError as exc:
                raise SourceError("disconnected", f"camera {self._name}: "
                                                  f"{exc.strerror or type(exc).__name__}") from None
            if not chunk:
                raise SourceError("disconnected", f"camera {self._name}: connection closed")
            self._buffer += chunk
            return

    # -- streaming -------------------------------------------------------------------------

    def start_streaming(self) -> None:
        assert self._sock is not None
        self._sock.setblocking(False)
        self._poll = select.poll()
        self._poll.register(self._sock, select.POLLIN)

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
        assert self._poll is not None
        return bool(self._poll.poll(seconds * 1000))

    def parse(self, on_rtp: RtpHandler) -> None:
        """Hand every complete RTP packet of the video channel to `on_rtp`; skip RTCP and
        RTSP replies (to keep-alives); keep an incomplete frame for the next read.

        At most MAX_PACKETS per call, and no more than MAX_BUFFERED left over: a camera
        that sends more is not one we can keep up with, and fails."""
        data, i = self._buffer, 0
        end = len(data)
        channel = self._channel
        unpack_ts = _RTP_TS.unpack_from
        packets = 0
        while i + 4 <= end and packets < MAX_PACKETS:
            packets += 1
            if data[i] == 0x24:
                size = (data[i + 2] << 8) | data[i + 3]
                stop = i + 4 + size
                if stop > end:
                    break
                if data[i + 1] == channel and size >= 12 and data[i + 4] >> 6 == 2:
                    b0 = data[i + 4]
                    start = i + 16 + (b0 & 0x0F) * 4
                    last = stop
                    if b0 & 0x10:  # header extension
                        start = (start + 4 + ((data[start + 2] << 8) | data[start + 3]) * 4
                                 if start + 4 <= last else last)
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
                match = _LENGTH.search(data, i, head_end)
                length = _number(match.group(1) if match else None, self._name,
                                 "Content-Length", MAX_BODY)
                stop = head_end + 4 + length
                if stop > end:
                    break
                self.replies_skipped += 1
                self._keepalive_answered(_parse_head(data[i:head_end].decode("latin-1"),
                                                     self._name))
                i = stop
            else:  # out of step: find the next frame
                found = data.find(b"$", i + 1)
                i = found if found >= 0 else end
        self._buffer = data[i:]
        if len(self._buffer) > MAX_BUFFERED:
            raise SourceError("protocol", f"camera {self._name}: sends faster than it can be "
                                          "read")

    def _keepalive_answered(self, reply: Reply) -> None:
        """A keep-alive's reply: a new Digest nonce is taken for the next one, a method the
        camera does not know is swapped for OPTIONS, a lost session ends the stream."""
        if reply.status == 401 and self._username:
            self._use_challenge(reply)
        elif reply.status in (405, 501) and self._keepalive_method != "OPTIONS":
            self._keepalive_method = "OPTIONS"
        elif reply.status == 454:
            raise SourceError("disconnected", f"camera {self._name}: session expired (454)")

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
        except (OSError, SourceError):
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
