"""RTSP streams and local video files, demuxed by FFmpeg (PyAV) without decoding.

Each feed has one small reader thread that only demuxes: it waits on the network (with the
GIL released inside FFmpeg), counts packets, measures the GOP, and keeps just the packets the
next analysis needs (the newest keyframe when the GOP fits the interval, otherwise the
packets since the last keyframe, bounded). Decoding happens later in the worker pool, so the
number of cameras is bounded by CPU, not by threads doing codec work.

A pinned RTSP camera (one a citizen registered) is read through `sitroom.rtspguard`'s
loopback relay, started in `open()` on the event loop and stopped in `close()`: FFmpeg would
otherwise follow an RTSP redirect to any address it names.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Any

import av

from sitroom.api import RtspRelay, SourceError
from sitroom_cameras.decode import Decoded, VideoDecoder, decode_jpeg
from sitroom_cameras.feed import Feed, Pending

# Seconds of packets a reader takes per wake-up. Waking a thread costs far more than the
# work it wakes for: FFmpeg reads RTSP over TCP with a poll() and recv() per 4-byte
# interleave header and per RTP packet, so a reader that sleeps whenever it has caught up
# (the kernel buffers the stream meanwhile) spends 5.4 ms of CPU per second of a 4 Mbit/s
# camera instead of 11.4 (bench/RESULTS.md). Frame age can reach this between wake-ups.
BURST = 0.5
# ...but no more than this many bytes of stream per rest, so a high-bitrate camera never
# waits on a full receive buffer (0.5 s of 4 Mbit/s; 16 Mbit/s rests 0.13 s)
BURST_BYTES = 256 * 1024
CAUGHT_UP = 0.02  # a read that waited this long (s) found no buffered data: half a frame
# at 25 fps, and well above Python's 5 ms thread switch interval
MAX_QUEUE = 600  # packets kept for a long-GOP decode (24 s at 25 fps) before dropping a GOP
MAX_QUEUE_BYTES = 32 * 1024 * 1024  # ... and bytes (24 s of 10 Mbit/s)


def _reason(exc: BaseException) -> str:
    """FFmpeg's error text without the address (which may hold credentials)."""
    text = getattr(exc, "strerror", None)
    return str(text) if text else type(exc).__name__


class AvFeed(Feed):
    def __init__(
        self,
        target: str,
        *,
        name: str,
        transport: str,
        options: dict[str, str] | None = None,
        loop_file: bool = False,
        interval: float = 1.0,
        long_gop: str = "decode",
        open_timeout: float = 10.0,
        read_timeout: float = 10.0,
        min_width: int = 320,
        relay: RtspRelay | None = None,
    ) -> None:
        super().__init__()
        self.transport = transport
        self._target = target
        self._name = name
        self._options = options or {}
        self._loop_file = loop_file
        self._interval = interval
        self._long_gop = long_gop
        self._timeouts = (open_timeout, read_timeout)
        self._min_width = min_width
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._error: SourceError | None = None
        self._lock = threading.Lock()
        self._queue: list[av.Packet] = []  # "all" mode: packets not yet decoded
        self._queue_bytes = 0
        self._gop_bytes = 0
        self._key: av.Packet | None = None  # "keyframes" mode: newest undecoded keyframe
        # since the last keyframe (bounded); None before the first one, which frames before
        # it could not be decoded without
        self._gop_packets: list[av.Packet] | None = None
        self._need_key = True
        self._switch_after: int | None = None  # GOP length (frames) that needs mode "all"
        self._pace_base: float | None = None
        self.mode = "keyframes"
        self.codec = ""
        self._extradata: bytes | None = None
        self.nominal_fps = 0.0
        self._lost = 0  # frames dropped from an overflowing long-GOP queue
        self._decoder: VideoDecoder | None = None
        self._thread: threading.Thread | None = None
        self._relay = relay
        self.burst = BURST if loop_file or transport == "rtsp_tcp" else 0.0
        self._open_grace = open_timeout + 1.0  # s open() waits for the reader to connect
        self.client = "ffmpeg"
        self.resting = False  # the reader sleeps on purpose while the stream is buffered
        self._rest_began: float | None = None
        self._bytes_since_rest = 0

    async def open(self) -> None:
        if self._relay is not None:
            await self._relay.start()
            self._target = self._relay.url(self._target)
        self._thread = threading.Thread(
            target=self._run, name=f"camera-reader-{self._name}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._open_grace
        while not self._opened.is_set():
            if self._error is not None:
                raise self._error
            if time.monotonic() > deadline:
                raise SourceError("timeout", f"camera {self._name}: no stream after "
                                             f"{self._open_grace:.0f}s")
            await asyncio.sleep(0.02)

    async def grab(self) -> Pending | None:
        if self._error is not None:
            raise self._error
        with self._lock:
            if self.mode == "all":
                packets, self._queue, self._queue_bytes = self._queue, [], 0
            else:
                packets = [self._key] if self._key is not None else []
                self._key = None
            mode = self.mode
        if not packets:
            return None
        if mode == "jpeg":
            data, min_width = bytes(packets[-1]), self._min_width
            return lambda: decode_jpeg(data, min_width)
        if self._decoder is None:
            self._decoder = VideoDecoder(self.codec, self._extradata, self.size)
        decoder, keyframes = self._decoder, mode == "keyframes"

        def decode() -> Decoded:
            decoded = decoder.decode(packets, keyframes)
            if decoded.grey is not None:
                self.size = decoded.full_size  # streams that do not say so before decoding
            return decoded

        return decode

    async def close(self) -> None:
        self._stop.set()
        if self._relay is not None:
            await self._relay.close()  # also wakes a reader blocked on the socket

    def _failure(self, reason: str, exc: BaseException) -> SourceError:
        """The error to report; a session the relay cut for a redirect says so."""
        if self._relay is not None and self._relay.blocked == "redirect":
            return SourceError("redirect", f"camera {self._name}: RTSP redirect refused "
                                           "(a pinned camera may not send us elsewhere)")
        return SourceError(reason, f"camera {self._name}: {_reason(exc)}")

    # -- reader thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            container = av.open(self._target, options=self._options, timeout=self._timeouts)
        except Exception as exc:
            self._error = self._failure("connect", exc)
            return
        try:
            self._read(container)
        except SourceError as exc:
            self._error = self._failure(exc.reason, exc) if exc.reason == "disconnected" else exc
        except Exception as exc:
            self._error = self._failure("read", exc)
        finally:
            container.close()

    def _read(self, container: Any) -> None:
        if not container.streams.video:
            raise SourceError("protocol", f"camera {self._name}: no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        self.codec = ctx.name
        self._extradata = bytes(ctx.extradata) if ctx.extradata else None
        if ctx.width and ctx.height:
            self.size = (ctx.width, ctx.height)
        rate = stream.average_rate or stream.guessed_rate
        self.nominal_fps = float(rate) if rate else 0.0
        if self.codec == "mjpeg":
            self.mode = "jpeg"
        self._opened.set()
        time_base = float(stream.time_base) if stream.time_base else None
        # UDP keeps its packets in a small socket buffer: only TCP (and files) may wait
        sleep_when_caught_up = self.burst > 0 and not self._loop_file
        while not self._stop.is_set():
            packets = container.demux(stream)
            while True:
                began = time.monotonic()
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                if self._stop.is_set():
                    return
                waited = time.monotonic() - began
                if packet.size:
                    if self._loop_file and time_base:
                        self._pace(packet, time_base)
                    pts = packet.pts
                    self._on_frame(bool(packet.is_keyframe) or self.mode == "jpeg", packet,
                                   pts * time_base if pts is not None and time_base else None)
                    self._bytes_since_rest += packet.size
                if sleep_when_caught_up and waited > CAUGHT_UP and self._rest():
                    return
            if not self._loop_file:
                raise SourceError("disconnected", f"camera {self._name}: stream ended")
            container.seek(0)
            self._pace_base = None
            self.stats.restart_rate()

    def _rest(self) -> bool:
        """Sleep while the kernel buffers the stream (see BURST); True once stopped."""
        now = time.monotonic()
        seconds = self.burst
        if self._rest_began is not None and now > self._rest_began:
            byte_rate = self._bytes_since_rest / (now - self._rest_began)
            if byte_rate > 0:
                seconds = min(seconds, BURST_BYTES / byte_rate)
        self._rest_began, self._bytes_since_rest = now, 0
        return self._sleep(seconds)

    def _sleep(self, seconds: float) -> bool:
        self.resting = True
        try:
            return self._stop.wait(seconds)
        finally:
            self.resting = False

    def slack(self) -> float:
        return self.burst if self.resting else 0.0

    @property
    def lost(self) -> int:
        return self._lost

    def _pace(self, packet: av.Packet, time_base: float) -> None:
        """Play a file at its own speed, like a live camera would send it."""
        ts = packet.dts if packet.dts is not None else packet.pts
        if ts is None:
            return
        t = ts * time_base
        now = time.monotonic()
        if self._pace_base is None:
            self._pace_base = now - t
        delay = self._pace_base + t - now
        if delay > self.burst:  # wake a few times a second, not once per frame
            self._sleep(delay)

    def wants_data(self, key: bool) -> bool:
        """Whether a frame's bytes will be kept (so a reader must hand them over)."""
        return key or self.mode == "all" or self._gop_packets is not None

    def _on_frame(self, key: bool, packet: av.Packet | None,
                  media_time: float | None = None) -> None:
        """Count a frame and keep what the next decode needs; `packet` may be None when
        `wants_data(key)` said no."""
        self.stats.frame(key, media_time)
        with self._lock:
            if key:
                self._key = packet
                # hold a GOP only until its length is known: enough to start decoding at
                # once if it proves long, without keeping a GOP per camera for ever
                self._gop_packets = [packet] if self.stats.gop is None and packet else None
                self._gop_bytes = packet.size if packet else 0
            elif self._gop_packets is not None and packet is not None:
                self._gop_packets.append(packet)
                self._gop_bytes += packet.size
                if len(self._gop_packets) > MAX_QUEUE or self._gop_bytes > MAX_QUEUE_BYTES:
                    self._gop_packets = None
            if self.mode == "jpeg":
                return
            before = self.mode
            # the mode can only change at a keyframe (new GOP length, new fps) or when the
            # current GOP outgrows the interval; checking just then keeps packets cheap
            # (and on every packet of the first GOP, while the fps is still the container's
            # guess and the GOP length unknown)
            if (key or self._switch_after is None or self.stats.gop is None
                    or (self.stats.since_key or 0) > self._switch_after):
                self._choose_mode()
            if self.mode != "all":
                return
            if before != "all":
                # start decoding from the keyframe this GOP began with, if we still hold it
                self._queue = [packet] if key and packet else list(self._gop_packets or [])
                self._queue_bytes = sum(p.size for p in self._queue)
                self._need_key = not self._queue
                return
            if key:
                self._need_key = False
            if self._need_key or packet is None:
                return
            self._queue.append(packet)
            self._queue_bytes += packet.size
            if len(self._queue) > MAX_QUEUE or self._queue_bytes > MAX_QUEUE_BYTES:
                self._lost += len(self._queue)
                self._queue.clear()
                self._queue_bytes = 0
                self._need_key = True

    def _choose_mode(self) -> None:
        """Keyframes only while one arrives at least every ~1.5 analysis intervals."""
        if self._long_gop == "keyframes":
            self._switch_after = sys.maxsize  # never
            return
        fps = self.stats.fps or self.nominal_fps
        if not fps:
            return
        self._switch_after = int(1.5 * self._interval * fps)
        frames = max(self.stats.gop or 0, self.stats.since_key or 0)
        if not frames:
            return
        wanted = "keyframes" if frames / fps <= 1.5 * self._interval else "all"
        if wanted != self.mode:
            self.mode = wanted
            self._queue, self._queue_bytes = [], 0
