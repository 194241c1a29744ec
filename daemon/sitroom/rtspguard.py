"""A loopback relay that lets FFmpeg talk RTSP to one checked address and nowhere else.

FFmpeg's RTSP demuxer follows `3xx` replies by itself (it reconnects to the reply's
`Location`), so substituting the pinned IP into the URL is not enough: a "camera" at an
allowed address could answer `DESCRIBE` with `302 Location: rtsp://169.254.169.254/` and
FFmpeg would go there. FFmpeg runs in a thread with its own blocking sockets, and it offers
no hook to veto a redirect, so the guard sits on the wire instead: FFmpeg connects to this
relay on 127.0.0.1, the relay connects to the pinned IP:port, passes the client's bytes
through unchanged and reads the server's stream framing. Interleaved binary frames (`$`,
channel, 2-byte length, payload) pass untouched; RTSP messages are read line by line the
way FFmpeg reads them, and the session is cut (both sides closed) at the first line that
makes a message a `3xx` reply, a reply with a `Location` header, or a server-sent
`REDIRECT` request, before that line reaches FFmpeg. Nothing ever reaches another
address because the relay only ever dials the one it was given.

Only RTSP over TCP can be guarded this way: with UDP transport the media arrive on ports
FFmpeg negotiates directly, so pinned streams are forced to `rtsp_transport=tcp`.

The relay runs on the asyncio loop of whoever starts it (the registry probe, a camera feed);
the blocking FFmpeg thread connects to it like to any RTSP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

import structlog

log = structlog.get_logger("sitroom.rtspguard")

MAX_LINE = 4095  # FFmpeg keeps 4095 characters of a line and drops the rest: we cut instead
MAX_BODY = 1024 * 1024  # Content-Length we accept for one message (an SDP is a few KiB)
MIN_FRAME = 8  # the smallest RTCP packet; FFmpeg re-reads shorter frames as text
CHUNK = 64 * 1024
_INTEGER = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)")  # what C's strtol/atoi accept


class RelayBlocked(Exception):
    """The server sent something the relay refuses; `reason` fits a metric label."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def relay_url(url: str, port: int) -> str:
    """`url` with host:port replaced by 127.0.0.1:`port` (credentials, path, query kept)."""
    parts = urlsplit(url)
    netloc = f"127.0.0.1:{port}"
    if "@" in parts.netloc:
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class ServerStreamGuard:
    """Incremental parser of the server->client byte stream; no I/O, so tests feed it bytes.

    It reads the stream exactly the way FFmpeg's `ff_rtsp_read_reply` does, because any
    difference is a place to smuggle a redirect past it: a line ends at `\n`, every `\r` is
    ignored, an empty line ends a message, a `$` at the start of ANY line (even inside a
    header) is an interleaved frame skipped by its length, and a body is `Content-Length`
    raw bytes, that header matched only at the start of a line, parsed like `strtol`, last
    one winning. What FFmpeg could read differently (over-long lines, NUL bytes, frames
    shorter than 8 bytes, which FFmpeg re-reads as text while streaming) is cut as
    `protocol`. Lines are forwarded one at a time once judged: FFmpeg acts on a reply only
    after its closing empty line, and the line that makes it a redirect never passes.

    `feed(data)` returns the bytes that may be passed on now, or raises `RelayBlocked`.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._passthrough = 0  # bytes of a body or frame payload still to forward as they are
        self._line = bytearray()  # the unfinished line, raw
        self._lines = 0  # complete lines of the current message
        self._content_length = 0

    def feed(self, data: bytes) -> bytes:
        buf = self._buffer
        buf += data
        out = bytearray()
        while buf:
            if self._passthrough:
                take = min(self._passthrough, len(buf))
                out += buf[:take]
                del buf[:take]
                self._passthrough -= take
                continue
            if not self._line.replace(b"\r", b""):  # at a line start, as FFmpeg counts it
                if buf[0] == 0x0D:
                    self._line.append(0x0D)
                    del buf[:1]
                    continue
                if buf[0] == 0x24:  # '$': interleaved binary frame
                    if len(buf) < 4:
                        break
                    length = int.from_bytes(buf[2:4], "big")
                    if length < MIN_FRAME:
                        raise RelayBlocked("protocol")
                    out += self._line + buf[:4]
                    self._line.clear()
                    del buf[:4]
                    self._passthrough = length
                    continue
            end = buf.find(b"\n")
            if end < 0:
                self._line += buf
                buf.clear()
                if len(self._line) > 2 * MAX_LINE:
                    raise RelayBlocked("protocol")
                break
            self._line += buf[: end + 1]
            del buf[: end + 1]
            out += self._end_line()
        return bytes(out)

    def _end_line(self) -> bytes:
        raw = bytes(self._line)
        self._line.clear()
        text = raw[:-1].replace(b"\r", b"")
        if len(text) > MAX_LINE or b"\0" in text:
            raise RelayBlocked("protocol")
        if not text:  # end of the message: its body follows, raw
            self._passthrough = max(0, self._content_length)
            self._lines = self._content_length = 0
            return raw
        if self._lines == 0:
            _check_first_line(text)
        else:
            lower = text.lower()
            if lower.lstrip().startswith(b"location"):
                raise RelayBlocked("redirect")
            if lower.startswith(b"content-length:"):
                match = _INTEGER.match(text, len(b"content-length:"))
                self._content_length = int(match.group(1)) if match else 0
                # FFmpeg keeps strtol's result in an int: a negative or wrapping value
                # would make it read a different body length than we do. Refuse both.
                if not 0 <= self._content_length <= MAX_BODY:
                    raise RelayBlocked("protocol")
        self._lines += 1
        return raw


def _check_first_line(text: bytes) -> None:
    """A 3xx status, or a server-sent REDIRECT request, ends the session."""
    words = text.split()
    if not words:
        return
    if words[0].upper().startswith(b"RTSP/") and len(words) > 1:
        match = _INTEGER.match(words[1])
        if match:
            code = int(match.group(1))
            if not 0 <= code < 1000:  # atoi would wrap it (4294967598 reads as 302)
                raise RelayBlocked("protocol")
            if 300 <= code < 400:
                raise RelayBlocked("redirect")
    elif words[0].upper() == b"REDIRECT":
        raise RelayBlocked("redirect")


class RtspRelay:
    """Listen on 127.0.0.1:<ephemeral>; relay each connection to the pinned address only.

    Use as `async with RtspRelay(ip, port) as relay: open(relay.url(original))`.
    `blocked` names why the relay last cut a session ("redirect", "protocol"), so callers
    can report the real cause of the error FFmpeg then sees.
    """

    def __init__(self, address: str, port: int, connect_timeout: float = 10.0) -> None:
        self.address = str(ipaddress.ip_address(address))  # an IP, never a name to resolve
        self.target_port = port
        self.connect_timeout = connect_timeout
        self.port = 0
        self.blocked: str | None = None
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> RtspRelay:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def url(self, original: str) -> str:
        return relay_url(original, self.port)

    async def close(self) -> None:
        """Stop listening and cut every session; safe to call twice."""
        self._closed = True  # a connection accepted just now must not start a session
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def __aenter__(self) -> RtspRelay:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _session(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
                       ) -> None:
        if self._closed:
            client_w.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(client_w)
        self.connections += 1
        server_w: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(self.connect_timeout):
                server_r, server_w = await asyncio.open_connection(self.address,
                                                                   self.target_port)
            self._writers.add(server_w)
            up = asyncio.ensure_future(self._pump(client_r, server_w, None))
            down = asyncio.ensure_future(self._pump(server_r, client_w, ServerStreamGuard()))
            try:
                await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in (up, down):
                    pump.cancel()
                await asyncio.gather(up, down, return_exceptions=True)
        except (OSError, TimeoutError):
            pass  # FFmpeg sees the closed socket; the camera is unreachable
        except asyncio.CancelledError:
            # close() cut the session; ending quietly keeps asyncio from reporting the
            # connection callback's task as failed
            return
        finally:
            for writer in (client_w, server_w):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.close()
            self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    guard: ServerStreamGuard | None) -> None:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return  # either side hanging up ends the session
            if guard is not None:
                try:
                    data = guard.feed(data)
                except RelayBlocked as exc:
                    self.blocked = exc.reason
                    log.warning("rtsp_relay_blocked", reason=exc.reason)
                    return
            if data:
                writer.write(data)
                await writer.drain()
