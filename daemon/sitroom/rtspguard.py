"""A loopback relay that lets FFmpeg talk RTSP to one checked address and nowhere else.

FFmpeg's RTSP demuxer follows `3xx` replies by itself (it reconnects to the reply's
`Location`), so substituting the pinned IP into the URL is not enough: a "camera" at an
allowed address could answer `DESCRIBE` with `302 Location: rtsp://169.254.169.254/` and
FFmpeg would go there. FFmpeg runs in a thread with its own blocking sockets, and it offers
no hook to veto a redirect, so the guard sits on the wire instead: FFmpeg connects to this
relay on 127.0.0.1, the relay connects to the pinned IP:port, passes the client's bytes
through unchanged and reads the server's stream framing. Interleaved binary frames (`$`,
channel, 2-byte length, payload) pass untouched; every RTSP message is held until its
header is complete and dropped, with both sides closed, if it is a `3xx` reply, carries a
`Location` header, or is a server-sent `REDIRECT` request. Nothing ever reaches another
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
from urllib.parse import urlsplit, urlunsplit

import structlog

log = structlog.get_logger("sitroom.rtspguard")

MAX_HEADER = 64 * 1024  # an RTSP reply header (SDP bodies are counted separately)
MAX_BODY = 1024 * 1024  # Content-Length we accept for one message (an SDP is a few KiB)
CHUNK = 64 * 1024


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

    `feed(data)` returns the bytes that may be passed on now (complete frames and checked
    message headers; bodies and binary payloads stream through as they come), or raises
    `RelayBlocked`.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._passthrough = 0  # bytes of a body or binary frame still to forward unparsed

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray()
        while self._buffer:
            if self._passthrough:
                take = min(self._passthrough, len(self._buffer))
                out += self._buffer[:take]
                del self._buffer[:take]
                self._passthrough -= take
                continue
            if self._buffer[0] == 0x24:  # '$': interleaved binary frame
                if len(self._buffer) < 4:
                    break
                length = int.from_bytes(self._buffer[2:4], "big")
                out += self._buffer[:4]
                del self._buffer[:4]
                self._passthrough = length
                continue
            if self._buffer[:1] in (b"\r", b"\n"):  # stray line ends between messages
                out += self._buffer[:1]
                del self._buffer[:1]
                continue
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEADER:
                    raise RelayBlocked("protocol")
                break
            header = bytes(self._buffer[: end + 4])
            body = _check_message(header)
            out += header
            del self._buffer[: end + 4]
            self._passthrough = body
        return bytes(out)


def _check_message(header: bytes) -> int:
    """Judge one RTSP message header; return its body length."""
    lines = header.decode("latin-1").split("\r\n")
    first = lines[0].strip()
    words = first.split()
    if not words:
        raise RelayBlocked("protocol")
    if words[0].upper().startswith("RTSP/"):
        if len(words) < 2 or not words[1].isdigit():
            raise RelayBlocked("protocol")
        if 300 <= int(words[1]) < 400:
            raise RelayBlocked("redirect")
    elif words[0].upper() == "REDIRECT":  # a server-sent request to go elsewhere
        raise RelayBlocked("redirect")
    length = 0
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        if key == "location":
            raise RelayBlocked("redirect")
        if key == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise RelayBlocked("protocol") from None
            if not 0 <= length <= MAX_BODY:
                raise RelayBlocked("protocol")
    return length


class RtspRelay:
    """Listen on 127.0.0.1:<ephemeral>; relay each connection to the pinned address only.

    Use as `async with RtspRelay(ip, port) as relay: open(relay.url(original))`.
    `blocked` names why the relay last cut a session ("redirect", "protocol"), and
    `redirects` counts the redirects refused, so callers can report the real cause of the
    error FFmpeg then sees.
    """

    def __init__(self, address: str, port: int, connect_timeout: float = 10.0) -> None:
        self.address = str(ipaddress.ip_address(address))  # an IP, never a name to resolve
        self.target_port = port
        self.connect_timeout = connect_timeout
        self.port = 0
        self.blocked: str | None = None
        self.redirects = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
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
        except RelayBlocked:
            pass
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
                    if exc.reason == "redirect":
                        self.redirects += 1
                    log.warning("rtsp_relay_blocked", reason=exc.reason)
                    return
            if data:
                writer.write(data)
                await writer.drain()
