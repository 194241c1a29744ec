"""RTSP over TCP read by sitroom's own client (see rtsp_client), FFmpeg for the rest.

Same reader thread, keyframe bookkeeping and decoding as `AvFeed`; only the transport
differs: the thread rests while the kernel buffers the stream, drains the socket in a few
reads, and turns RTP into access units itself. A keyframe (or, while every frame is
decoded, any frame) is joined into an Annex-B packet for the decoder; other frames are
only counted. A camera whose SDP offers something else than H.264/H.265 over interleaved
TCP is handed to FFmpeg on the same thread, before any video is read.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import av
import structlog

from sitroom.api import RtspRelay, SourceError
from sitroom_cameras.feed_av import AvFeed
from sitroom_cameras.rtp import Depacketizer
from sitroom_cameras.rtsp_client import SLICE, RtspSession, Unsupported

log = structlog.get_logger("sitroom.cameras")


class NativeRtspFeed(AvFeed):
    """A pinned camera (`connect_to`) is reached at that IP only; the client follows no
    redirect, so it needs no relay, except for FFmpeg when the codec is not ours:
    `fallback_relay` is started then, on the event loop, before FFmpeg connects."""

    def __init__(self, url: str, ffmpeg_url: str, *, name: str, username: str | None,
                 password: str | None, options: dict[str, str], connect_to: str | None = None,
                 fallback_relay: RtspRelay | None = None, **kwargs: Any) -> None:
        super().__init__(ffmpeg_url, name=name, transport="rtsp_tcp", options=options,
                         **kwargs)
        self._session = RtspSession(url, username=username, password=password,
                                    timeout=self._timeouts[0], name=name, connect_to=connect_to,
                                    stop=self._stop)
        self.client = "native"  # until the camera offers what only FFmpeg reads
        self._clock_rate = 90000
        self._fallback_relay = fallback_relay
        self._loop: asyncio.AbstractEventLoop | None = None
        # our handshake, then possibly FFmpeg's whole one: two connection timeouts
        self._open_grace = 2 * self._timeouts[0] + 1.0
        self._depacketizer: Depacketizer | None = None

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        await super().open()

    def _run(self) -> None:
        session = self._session
        try:
            try:
                track = session.open()
            except Unsupported:
                session.close()
                self.client = "ffmpeg"
                if self._stop.is_set():
                    return
                if self._fallback_relay is None or self._start_relay(self._fallback_relay):
                    super()._run()
                return
            self.codec = track.codec.name
            self._clock_rate = track.clock_rate
            self._opened.set()
            self._depacketizer = Depacketizer(track.codec, self._on_unit, track.parameter_sets)
            self._stream(session, self._depacketizer)
        except SourceError as exc:
            self._error = exc
        except Exception as exc:  # a bug of ours: never silent, never the camera's fault
            log.exception("camera_reader_failed", camera=self._name)
            self._error = SourceError("internal", f"camera {self._name}: reader failed "
                                                  f"({type(exc).__name__})")
        finally:
            session.close()

    def _start_relay(self, relay: RtspRelay) -> bool:
        """Start the relay FFmpeg must go through (from the reader thread); False on error."""
        assert self._loop is not None
        started = asyncio.run_coroutine_threadsafe(relay.start(), self._loop)
        try:
            started.result(self._timeouts[0])
        except Exception as exc:
            started.cancel()
            asyncio.run_coroutine_threadsafe(relay.close(), self._loop)
            self._error = SourceError("connect", f"camera {self._name}: relay did not start "
                                                 f"({type(exc).__name__})")
            return False
        self._relay = relay  # close() stops it, _failure() reads its verdict
        self._target = relay.url(self._target)
        if self._stop.is_set():  # closed meanwhile: close() did not see the relay
            asyncio.run_coroutine_threadsafe(relay.close(), self._loop)
            return False
        return True

    def _stream(self, session: RtspSession, depacketizer: Depacketizer) -> None:
        session.start_streaming()
        silent_since = time.monotonic()
        read_timeout = self._timeouts[1]
        while not self._stop.is_set():
            received = session.drain()
            if not received:
                if time.monotonic() - silent_since > read_timeout:
                    raise SourceError("timeout", f"camera {self._name}: no data for "
                                                 f"{read_timeout:.0f}s")
                session.wait_readable(SLICE)  # hears stop meanwhile
                continue
            silent_since = time.monotonic()
            session.parse(depacketizer.push)
            self._bytes_since_rest += received
            session.keepalive()
            if self._rest():
                return

    @property
    def lost(self) -> int:
        return self._lost + (self._depacketizer.dropped if self._depacketizer else 0)

    def _on_unit(self, key: bool, timestamp: int, depacketizer: Depacketizer) -> None:
        packet = None
        if self.wants_data(key):
            packet = av.Packet(depacketizer.annexb())
            packet.is_keyframe = key
        self._on_frame(key, packet, timestamp / self._clock_rate)
