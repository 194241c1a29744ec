"""HLS cameras: follow a live or event playlist, fetch its newest segment, analyse a keyframe.

Why fetch segments ourselves rather than hand the URL to FFmpeg's HLS demuxer: a playlist
names segment URLs, possibly on other hosts, and FFmpeg would fetch whatever it names. Here
every URL is checked: the playlist's own origin is reached as configured (or at the address
the registry pinned), and any other host goes through the core's SSRF guard (resolved once,
private and special ranges refused unless `hls_allow_networks` names them) and is then
reached at the checked address only, never following redirects. It is also cheaper: only
the newest segment is fetched, demuxed without decoding to count frames, and its newest
keyframe decoded in the worker pool (bench/RESULTS.md compares both ways).

Health comes from the playlist itself: how long since it last advanced (a camera whose
encoder died keeps serving its last playlist), the media sequence, segment fetch errors
and latency. A playlist that stops advancing for two target durations is `frozen`; the
camera then goes down like any silent camera (no new frames) and is reconnected after the
stall timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
import av

from sitroom.api import (
    AddressRefused,
    BodyTooLarge,
    CheckedTarget,
    MetricWriter,
    NetGuard,
    SourceError,
    pinned_connector,
    read_response_bounded,
)
from sitroom_cameras import metrics as m
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.decode import Decoded, DecodeError, VideoDecoder
from sitroom_cameras.feed import Feed, Pending
from sitroom_cameras.hls import Playlist, PlaylistError, choose_variant, parse_playlist
from sitroom_cameras.targets import HttpTarget

MAX_PLAYLIST_BYTES = 512 * 1024
MAX_SEGMENT_BYTES = 16 * 1024 * 1024  # 8 s of 16 Mbit/s
FROZEN_AFTER = 2.0  # target durations without a new segment
MAX_FOREIGN_HOSTS = 4  # segment hosts other than the playlist's, each with its own session
RECHECK_AFTER = 300.0  # s before a foreign host is resolved and checked again


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


class HlsHttp:
    """GETs for one camera: its own origin as configured, other hosts checked and pinned."""

    def __init__(self, session: aiohttp.ClientSession, target: HttpTarget, url: str,
                 guard: NetGuard, name: str) -> None:
        self.session = session
        self.target = target
        self.url = url  # the configured URL (original host name)
        self.home = _origin(url)
        self.guard = guard
        self.name = name
        self._foreign: dict[tuple[str, str, int | None],
                            tuple[float, CheckedTarget, aiohttp.ClientSession]] = {}

    def _home_request(self, url: str, timeout: aiohttp.ClientTimeout
                      ) -> aiohttp.client._RequestContextManager:
        """Same origin as configured: the target's pinned address, Host header, SNI, auth."""
        pinned = urlsplit(self.target.url)
        parts = urlsplit(url)
        wire = parts._replace(netloc=pinned.netloc).geturl()
        headers = dict(self.target.headers)
        if self.target.authorization:
            headers["Authorization"] = self.target.authorization
        return self.session.get(wire, headers=headers, allow_redirects=False,
                                server_hostname=self.target.server_hostname,
                                ssl=self.target.ssl, timeout=timeout)

    async def _foreign_session(self, url: str) -> aiohttp.ClientSession:
        origin = _origin(url)
        known = self._foreign.get(origin)
        if known is not None and time.monotonic() - known[0] < RECHECK_AFTER:
            return known[2]
        try:
            checked = await self.guard.check_url(url, ("http", "https"))
        except AddressRefused as exc:
            raise SourceError("refused", f"camera {self.name}: playlist points at a refused "
                                         f"address ({exc.reason})") from None
        if known is not None:
            await known[2].close()
        elif len(self._foreign) >= MAX_FOREIGN_HOSTS:
            raise SourceError("refused", f"camera {self.name}: segments on more than "
                                         f"{MAX_FOREIGN_HOSTS} other hosts")
        session = aiohttp.ClientSession(connector=pinned_connector(checked), trust_env=False)
        self._foreign[origin] = (time.monotonic(), checked, session)
        return session

    async def get(self, url: str, max_bytes: int, time_limit: float) -> bytes:
        client_timeout = aiohttp.ClientTimeout(total=time_limit)
        if _origin(url) == self.home:
            request = self._home_request(url, client_timeout)
        else:
            if urlsplit(url).scheme not in ("http", "https") or "@" in urlsplit(url).netloc:
                raise SourceError("refused", f"camera {self.name}: playlist points at a "
                                             "non-HTTP address")
            session = await self._foreign_session(url)
            request = session.get(url, allow_redirects=False, timeout=client_timeout)
        try:
            async with request as response:
                if 300 <= response.status < 400:
                    raise SourceError("redirect", f"camera {self.name}: redirect refused")
                if response.status in (401, 403):
                    raise SourceError("auth", f"camera {self.name}: access denied")
                if response.status != 200:
                    raise SourceError("status", f"camera {self.name}: HTTP {response.status}")
                return await read_response_bounded(response, max_bytes)
        except BodyTooLarge:
            raise SourceError("too_large", f"camera {self.name}: over {max_bytes} bytes"
                              ) from None
        except TimeoutError:
            raise SourceError("timeout", f"camera {self.name}: no answer in {time_limit:g}s"
                              ) from None
        except aiohttp.ClientError as exc:
            raise SourceError("connect", f"camera {self.name}: {type(exc).__name__}") from None

    async def close(self) -> None:
        for _, _, session in self._foreign.values():
            await session.close()
        self._foreign.clear()


@dataclass(frozen=True)
class DemuxedSegment:
    """What one pass over a segment found: every frame's (keyframe, time), the picture
    size, and the newest keyframe ready to decode on its own."""

    frames: list[tuple[bool, float | None]]
    size: tuple[int, int]
    codec: str
    extradata: bytes | None
    keyframe: bytes | None


# FFmpeg's default probing decodes frames to learn stream parameters: 3x the cost of the
# demux itself on a 1080p segment. The parser reads the size from the SPS without it.
PROBE = {"probesize": "65536", "analyzeduration": "0"}


def demux_segment(data: bytes, fmp4: bool = False) -> DemuxedSegment:
    """One demux pass, no decoding (the reader's side; the decode runs in the pool)."""
    try:
        with av.open(io.BytesIO(data), "r", format=None if fmp4 else "mpegts",
                     options=PROBE) as container:
            stream = container.streams.video[0]
            base = float(stream.time_base or 0)
            frames: list[tuple[bool, float | None]] = []
            keyframe = None
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                key = bool(packet.is_keyframe)
                frames.append((key, packet.pts * base if packet.pts is not None else None))
                if key:
                    keyframe = bytes(packet)
            ctx = stream.codec_context
            return DemuxedSegment(frames, (ctx.width, ctx.height), ctx.name, ctx.extradata,
                                  keyframe)
    except (av.error.FFmpegError, IndexError, ValueError) as exc:
        raise DecodeError(f"segment: {type(exc).__name__}") from None


def decode_keyframe(segment: DemuxedSegment) -> Decoded:
    """The segment's newest keyframe (its freshest picture) as a grey picture."""
    if segment.keyframe is None:
        raise DecodeError("segment without a keyframe")
    decoder = VideoDecoder(segment.codec, segment.extradata, segment.size)
    return decoder.decode([av.Packet(segment.keyframe)], keyframes=True)


class HlsFeed(Feed):
    transport = "hls"
    client = "sitroom"

    def __init__(self, http: HlsHttp, *, name: str, timeout: float, interval: float) -> None:
        super().__init__()
        self.mode = "keyframes"
        self._http = http
        self._name = name
        self._timeout = timeout
        self._interval = interval
        self._playlist_url = http.url
        self._task: asyncio.Task[None] | None = None
        self._error: SourceError | None = None
        self._latest: DemuxedSegment | None = None
        self._init: bytes = b""
        self.playlist: Playlist | None = None
        self.last_sequence: int | None = None
        self._advanced_at: float | None = None
        self.fetch_seconds: list[float] = []  # segment fetch latencies not yet reported
        self.errors: dict[tuple[str, str], int] = {}  # (what, reason) not yet reported

    # -- the playlist ----------------------------------------------------------------------

    async def _load(self) -> Playlist:
        body = await self._http.get(self._playlist_url, MAX_PLAYLIST_BYTES, self._timeout)
        try:
            playlist = parse_playlist(body.decode("utf-8", errors="replace"))
        except PlaylistError as exc:
            raise SourceError(exc.reason, f"camera {self._name}: {exc}") from None
        if playlist.variants:  # a master playlist: follow one variant from now on
            variant = choose_variant(playlist.variants, 0)
            self._playlist_url = urljoin(self._playlist_url, variant.uri)
            return await self._load()
        return playlist

    async def open(self) -> None:
        playlist = await self._load()
        if playlist.init_uri:
            self._init = await self._http.get(urljoin(self._playlist_url, playlist.init_uri),
                                              MAX_SEGMENT_BYTES, self._timeout)
        await self._take(playlist)
        self._task = asyncio.create_task(self._follow(), name=f"hls-{self._name}")

    async def _follow(self) -> None:
        while True:
            playlist = self.playlist
            target = playlist.target_duration if playlist else 2.0
            await asyncio.sleep(max(0.25, min(target / 2, self._interval)))
            try:
                await self._take(await self._load())
            except SourceError as exc:
                self._count("playlist", exc.reason)
                if exc.reason in ("refused", "encrypted", "too_large", "redirect", "auth"):
                    self._error = exc  # the camera's answer, not a network hiccup
                    return

    async def _take(self, playlist: Playlist) -> None:
        """Note the playlist; fetch its newest segment if the sequence advanced."""
        self.playlist = playlist
        newest = playlist.last_sequence
        if newest is None or (self.last_sequence is not None and newest <= self.last_sequence):
            return
        self.last_sequence = newest
        self._advanced_at = time.monotonic()
        url = urljoin(self._playlist_url, playlist.segments[-1].uri)
        started = time.monotonic()
        try:
            data = await self._http.get(url, MAX_SEGMENT_BYTES, self._timeout)
        except SourceError as exc:
            self._count("segment", exc.reason)
            if exc.reason == "refused":
                raise
            return
        self.fetch_seconds.append(time.monotonic() - started)
        data = self._init + data
        try:
            segment = await asyncio.to_thread(demux_segment, data, bool(self._init))
        except DecodeError:
            self._count("segment", "demux")
            return
        self.size = segment.size
        for key, stamp in segment.frames:
            self.stats.frame(key, stamp)
        self._latest = segment

    def _count(self, what: str, reason: str) -> None:
        self.errors[(what, reason)] = self.errors.get((what, reason), 0) + 1

    # -- the feed --------------------------------------------------------------------------

    async def grab(self) -> Pending | None:
        if self._error is not None:
            raise self._error
        segment, self._latest = self._latest, None
        if segment is None:
            return None
        return lambda: decode_keyframe(segment)

    def slack(self) -> float:
        """Frames arrive a segment at a time: one target duration (plus its fetch) late is
        normal for HLS, not a camera in trouble."""
        playlist = self.playlist
        return (playlist.target_duration if playlist else 0.0) + self._timeout / 4

    @property
    def playlist_age(self) -> float | None:
        if self._advanced_at is None:
            return None
        return time.monotonic() - self._advanced_at

    @property
    def frozen(self) -> bool:
        age, playlist = self.playlist_age, self.playlist
        if age is None or playlist is None:
            return False
        return age > FROZEN_AFTER * max(playlist.target_duration, 1.0)

    def report(self, metrics: MetricWriter, labels: dict[str, str]) -> None:
        age = self.playlist_age
        if age is not None:
            metrics.set(m.HLS_PLAYLIST_AGE, age, **labels)
            metrics.set(m.HLS_FROZEN, 1 if self.frozen else 0, **labels)
        if self.last_sequence is not None:
            metrics.set(m.HLS_MEDIA_SEQUENCE, self.last_sequence, **labels)
        if self.playlist is not None:
            metrics.set(m.HLS_TARGET_DURATION, self.playlist.target_duration, **labels)
        for seconds in self.fetch_seconds:
            metrics.observe(m.HLS_SEGMENT_FETCH, seconds, **labels)
        self.fetch_seconds.clear()
        for (what, reason), count in self.errors.items():
            metrics.inc(m.HLS_FETCH_ERRORS, count, what=what, reason=reason, **labels)
        self.errors.clear()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._http.close()


def hls_feed(config: CameraConfig, session: aiohttp.ClientSession, target: HttpTarget
             ) -> HlsFeed:
    """The feed for a `hls` camera (no I/O): its origin as configured, other hosts guarded."""
    guard = NetGuard(config.hls_allow_networks)
    http = HlsHttp(session, target, config.url or "", guard, config.name)
    return HlsFeed(http, name=config.name, timeout=float(config.timeout),
                   interval=float(config.analysis_interval))
