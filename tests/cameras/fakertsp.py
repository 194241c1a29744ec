"""A hostile RTSP "camera" on loopback: it answers with a redirect to another address.

`RedirectingRtspServer` speaks just enough RTSP for FFmpeg to reach the step it redirects
at: `OPTIONS` 200, then `DESCRIBE` 302 (the reply FFmpeg follows by itself: it reconnects to
the Location), or another method's reply if asked. `Witness` is the address it redirects
to: a plain listener that records whether anyone connected, then hangs up. Used by the
cameras and the registry tests.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

SDP = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=fake\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
)


@dataclass
class Witness:
    """Counts connections; the redirect target nobody may reach through the guard."""

    port: int = 0
    connections: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> Witness:
        async def accept(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self._server = await asyncio.start_server(accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()


@dataclass
class RedirectingRtspServer:
    location: str
    redirect_on: str = "DESCRIBE"  # the method answered with the redirect
    header_only: bool = False  # answer 200 with a Location header instead of a 3xx
    port: int = 0
    methods: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> RedirectingRtspServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method = lines[0].split(" ", 1)[0]
                self.methods.append(method)
                cseq = next((ln.split(":", 1)[1].strip() for ln in lines
                             if ln.lower().startswith("cseq:")), "0")
                writer.write(self._answer(method, cseq).encode("latin-1"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _answer(self, method: str, cseq: str) -> str:
        if method == self.redirect_on:
            if self.header_only:
                return (f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nLocation: {self.location}\r\n"
                        "Content-Length: 0\r\n\r\n")
            return f"RTSP/1.0 302 Moved\r\nCSeq: {cseq}\r\nLocation: {self.location}\r\n\r\n"
        if method == "OPTIONS":
            return (f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n"
                    "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n")
        if method == "DESCRIBE":
            return (f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n"
                    f"Content-Length: {len(SDP)}\r\n\r\n{SDP}")
        return f"RTSP/1.0 454 Session Not Found\r\nCSeq: {cseq}\r\n\r\n"
