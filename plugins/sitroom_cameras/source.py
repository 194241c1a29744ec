"""The camera source: a feed, an analysis tick at the configured rate, metrics and events.

`run()` holds the connection; every `analysis_interval` it takes whatever the feed kept,
decodes and analyses it in the worker pool (one job per camera per tick, so a thousand
cameras queue on a bounded pool instead of a thousand threads decoding), and writes the
results on the event loop. A camera that stops sending is marked down on the next tick;
one silent for `stall_timeout` is reconnected by the core with backoff.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import av
import cv2
import numpy as np

from sitroom.api import RtspRelay, SourceError, StreamingSource
from sitroom_cameras import events as camera_events
from sitroom_cameras import metrics as m
from sitroom_cameras.analysis import Analyzer, FrameReport
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.decode import Decoded, DecodeError
from sitroom_cameras.feed import Feed, Pending
from sitroom_cameras.feed_av import AvFeed
from sitroom_cameras.feed_hls import hls_feed
from sitroom_cameras.feed_http import MjpegFeed, SnapshotFeed
from sitroom_cameras.feed_rtsp import NativeRtspFeed
from sitroom_cameras.frames import (
    COLOUR_WIDTH,
    EVENT_WIDTH,
    EventLog,
    annotate,
    colour_picture,
    encode,
)
from sitroom_cameras.rules import Rules
from sitroom_cameras.targets import display, http_target, rtsp_credentials, rtsp_url

SECOND_LOOK_MARGIN = 0.1  # s after a reader's longest rest: it has read and parsed by then


def make_feed(config: CameraConfig, ctx: Any) -> Feed:
    """The feed for a camera's transport (constructing it does no I/O)."""
    mode = config.resolved_transport
    cfg = config.analysis
    min_width = max(cfg.width, cfg.people_width if cfg.people else 0)
    timeout = float(config.timeout)
    common: dict[str, Any] = {"name": config.name, "interval": float(config.analysis_interval),
              "long_gop": config.long_gop, "open_timeout": timeout,
              "read_timeout": max(timeout, config.effective_stall_timeout),
              "min_width": min_width}
    if mode == "file":
        return AvFeed(str(config.path), transport="file", loop_file=True, **common)
    if mode in ("rtsp_tcp", "rtsp_udp"):
        relay = None
        if config.pin_address is not None:
            relay = pinned_relay(config)
            mode = "rtsp_tcp"  # UDP media would bypass the relay
        options = {"rtsp_transport": mode.removeprefix("rtsp_"), "allowed_media_types": "video"}
        native = (config.rtsp_client == "native" and mode == "rtsp_tcp"
                  and urlsplit(config.url or "").scheme == "rtsp")
        if native:
            username, password = rtsp_credentials(config)
            return NativeRtspFeed(config.url or "", rtsp_url(config), username=username,
                                  password=password, options=options,
                                  connect_to=config.pin_address, fallback_relay=relay, **common)
        return AvFeed(rtsp_url(config), transport=mode, options=options, relay=relay, **common)
    if mode == "hls":
        return hls_feed(config, ctx.http(), http_target(config))
    cls = SnapshotFeed if mode == "snapshot" else MjpegFeed
    return cls(ctx.http(), http_target(config), name=config.name, timeout=timeout,
               min_width=min_width)


def pinned_relay(config: CameraConfig) -> RtspRelay:
    """The redirect-refusing relay to a pinned RTSP camera (see sitroom.rtspguard)."""
    parts = urlsplit(config.url or "")
    if parts.scheme != "rtsp":
        # the relay must read the RTSP replies; inside TLS it cannot
        raise SourceError("config", f"camera {config.name}: pin_address needs rtsp://, "
                                    "not rtsps://")
    assert config.pin_address is not None
    return RtspRelay(config.pin_address, parts.port or 554, float(config.timeout))


def coordinate(value: float | None, owner_type: str) -> str:
    """A coordinate for the public info series: ~100 m for citizens' homes, else ~10 cm."""
    if value is None:
        return ""
    return f"{value:.3f}" if owner_type == "citizen" else f"{value:.6f}"


class CameraSource(StreamingSource):
    config: CameraConfig

    def __init__(self, config: CameraConfig, ctx: Any) -> None:
        super().__init__(config, ctx)
        self.analyzer = Analyzer(config)
        self.rules = Rules(config.zones, float(config.analysis.tamper_after),
                           float(config.analysis.frozen_after))
        self.tz = ZoneInfo(config.timezone)
        self.cam = {"camera": config.name}
        self.feed: Feed | None = None
        self.last_report: FrameReport | None = None
        self._runs = 0
        self._seen_frames = 0
        self._seen_lost = 0
        self._seen_time = 0.0
        self._last_frame_wall: float | None = None
        self.colour: bytes | av.VideoFrame | None = None  # newest picture, see frames.py
        self.events = EventLog()
        self._picture_tasks: set[asyncio.Task[None]] = set()

    # -- lifetime --------------------------------------------------------------------------

    async def run(self) -> None:
        self._runs += 1
        if self._runs > 1:
            self.metrics.inc(m.RECONNECTS, **self.cam)
        self._declare()
        feed = self.feed = make_feed(self.config, self.ctx)
        self.ctx.set_detail("address", display(self.config))
        self.ctx.set_detail("transport", feed.transport)
        interval = float(self.config.analysis_interval)
        loop = asyncio.get_running_loop()
        try:
            await feed.open()
            if feed.client:
                self.ctx.set_detail("reader", feed.client)
            self._seen_frames, self._seen_lost, self._seen_time = 0, 0, loop.time()
            next_tick = loop.time()
            while True:
                if not await self._tick(feed) and self._keyframe_due(feed, interval):
                    # this interval's keyframe may still sit in the kernel while the reader
                    # rests: look again once it has surely been read, not an interval later
                    # (when a newer keyframe would replace it)
                    await asyncio.sleep(feed.burst + SECOND_LOOK_MARGIN)
                    await self._tick(feed)
                next_tick += interval
                if next_tick < loop.time():
                    next_tick = loop.time() + interval
                await asyncio.sleep(next_tick - loop.time())
        finally:
            self.metrics.set(m.UP, 0, **self.cam)
            if self._last_frame_wall is not None:  # keep the age honest while reconnecting
                self.metrics.set(m.FRAME_AGE, time.time() - self._last_frame_wall, **self.cam)
            await feed.close()

    def _declare(self) -> None:
        """Zero every counter and write the info series, so dashboards see them at once."""
        c = self.config
        self.metrics.info(
            m.INFO, camera=c.name, transport=c.resolved_transport, district=c.district,
            latitude=coordinate(c.latitude, c.owner_type),
            longitude=coordinate(c.longitude, c.owner_type),
            owner_type=c.owner_type, location=c.location,
        )
        for name in (m.RECONNECTS, m.DECODE_ERRORS, m.FRAMES_LOST, m.FRAMES_RECEIVED,
                     m.FRAMES_DECODED, m.FRAMES_ANALYSED, m.CPU):
            self.metrics.inc(name, 0, **self.cam)
        for zone in c.zones:
            rules = ["suspicious_activity"] if zone.restricted else []
            rules += ["loitering"] if zone.loiter_after is not None else []
            for rule in rules:
                self.metrics.inc(m.EVENTS, 0, zone=zone.name, rule=rule, **self.cam)
        for rule in ("tamper_covered", "tamper_blinded", "tamper_defocused", "tamper_moved",
                     "frozen"):
            self.metrics.inc(m.EVENTS, 0, zone="", rule=rule, **self.cam)

    # -- one analysis tick -----------------------------------------------------------------

    async def _tick(self, feed: Feed) -> bool:
        """One analysis (if the feed has new data) and the health metrics; whether it
        analysed."""
        pending = await feed.grab()
        if pending is not None:
            now = time.monotonic()
            try:
                decoded, report, cpu = await self.ctx.run_blocking(self._process, pending, now)
            except DecodeError:
                self.metrics.inc(m.DECODE_ERRORS, **self.cam)
            else:
                self.metrics.inc(m.CPU, cpu, **self.cam)
                self._write_decode(decoded)
                if report is not None:
                    self._write_report(report, now)
        self._write_health(feed)
        return pending is not None

    def _process(self, pending: Pending, now: float
                 ) -> tuple[Decoded, FrameReport | None, float]:
        """Worker-pool side: decode, analyse the newest picture; no metric writes here."""
        started = time.thread_time()
        decoded = pending()
        report = None
        if decoded.grey is not None:
            report = self.analyzer.analyse(decoded.grey, decoded.full_size, now)
        decoded.grey = None  # the analyzer kept what it needs; let the frame go
        if decoded.colour is not None:
            self.colour = decoded.colour  # one reference swap: the wall's picture
        return decoded, report, time.thread_time() - started

    def _write_decode(self, decoded: Decoded) -> None:
        if decoded.frames:
            self.metrics.inc(m.FRAMES_DECODED, decoded.frames, **self.cam)
        if decoded.errors:
            self.metrics.inc(m.DECODE_ERRORS, decoded.errors, **self.cam)

    @staticmethod
    def _keyframe_due(feed: Feed, interval: float) -> bool:
        """A reader that rests, on a camera that is sending, with time for a second look."""
        age = feed.stats.age()
        return (feed.burst > 0 and feed.mode == "keyframes"
                and feed.burst + SECOND_LOOK_MARGIN < interval
                and age is not None and age < interval)

    def _write_health(self, feed: Feed) -> None:
        lost = feed.lost
        if lost > self._seen_lost:
            self.metrics.inc(m.FRAMES_LOST, lost - self._seen_lost, **self.cam)
        self._seen_lost = lost
        stats = feed.stats
        frames = stats.frames
        if frames > self._seen_frames:
            self.metrics.inc(m.FRAMES_RECEIVED, frames - self._seen_frames, **self.cam)
            self._seen_frames = frames
            self.ctx.mark_success()
        age = stats.age()
        fps = stats.fps
        # down once silent for three frame periods (at least 0.5 s against network jitter),
        # so a camera that stops is visible at the next tick
        fresh = (max(0.5, 3.0 / fps) if fps else float(self.config.analysis_interval) + 0.5
                 ) + feed.slack()
        self.metrics.set(m.UP, 1 if age is not None and age <= fresh else 0, **self.cam)
        if age is not None:
            self.metrics.set(m.FRAME_AGE, age, **self.cam)
            self.metrics.set(m.LAST_FRAME, stats.last_wall or 0.0, **self.cam)
            self._last_frame_wall = stats.last_wall
        self.metrics.set(m.FPS, fps, **self.cam)
        if feed.size is not None:
            self.metrics.set(m.WIDTH, feed.size[0], **self.cam)
            self.metrics.set(m.HEIGHT, feed.size[1], **self.cam)
        if stats.gop is not None:
            self.metrics.set(m.GOP, stats.gop, **self.cam)
        self.ctx.set_detail("decode_mode", feed.mode)
        feed.report(self.metrics, self.cam)
        stall = self.config.effective_stall_timeout
        waited = age if age is not None else asyncio.get_running_loop().time() - self._seen_time
        if waited > stall:
            raise SourceError("stalled", f"camera {self.config.name}: no frame for {waited:.0f}s")

    def _write_report(self, r: FrameReport, now: float) -> None:
        cam, w = self.cam, self.metrics
        self.last_report = r
        w.inc(m.FRAMES_ANALYSED, **cam)
        w.set(m.MOTION, r.motion, **cam)
        w.set(m.BRIGHTNESS, r.brightness, **cam)
        w.set(m.NIGHT, 1 if r.brightness < self.config.analysis.night_brightness else 0, **cam)
        w.set(m.SHARPNESS, r.sharpness, **cam)
        w.set(m.SCENE_CHANGE, r.scene_change, **cam)
        w.set(m.UNCHANGED, r.frozen_seconds, **cam)
        if self.config.analysis.people:
            w.set(m.PEOPLE, len(r.people), **cam)
        presence: dict[str, bool] = {}
        for zone in self.config.zones:
            name = zone.name
            motion = r.zone_motion.get(name, 0.0)
            count = r.zone_people.get(name, 0)
            w.set(m.ZONE_MOTION, motion, zone=name, **cam)
            if self.config.analysis.people:
                w.set(m.ZONE_PEOPLE, count, zone=name, **cam)
            if zone.presence == "people" and self.config.analysis.people:
                presence[name] = count > 0
            else:
                presence[name] = motion >= zone.motion_threshold
            if zone.type == "lane":
                occupancy = r.occupancy.get(name, 0.0)
                level = sum(1 for t in zone.congestion_thresholds if occupancy >= t)
                w.set(m.OCCUPANCY, occupancy, zone=name, **cam)
                w.set(m.CONGESTION, level, zone=name, **cam)
        local = datetime.now(self.tz)
        started = self.rules.evaluate(now, local, presence, r.tamper, r.frozen_seconds)
        for zone_name, rule in started:
            w.inc(m.EVENTS, zone=zone_name, rule=rule, **cam)
            self.log.info("camera_event", camera=self.config.name, zone=zone_name, rule=rule)
            self._keep_event(rule, zone_name)
        camera_events.push(self.ctx.events, self.config.name,
                           {"location": self.config.location, "district": self.config.district},
                           started, self.rules.active(), self._snapshot_of(r))
        for zone in self.config.zones:
            w.set(m.ZONE_PRESENCE, 1 if presence.get(zone.name) else 0, zone=zone.name, **cam)
            w.set(m.ZONE_DWELL, self.rules.dwell(zone.name, now), zone=zone.name, **cam)
        for (zone_name, rule), active in self.rules.active().items():
            w.set(m.EVENT_ACTIVE, 1 if active else 0, zone=zone_name, rule=rule, **cam)

    # -- pictures and events for people ---------------------------------------------------

    def _snapshot_of(self, report: FrameReport) -> Any:
        """The picture of this very frame, encoded only if an event asks for it."""
        frame = self.analyzer.snapshot

        async def encode() -> bytes | None:
            if frame is None:
                return None
            return await self.ctx.run_blocking(self._encode, frame, report, True)

        return encode

    def _keep_event(self, rule: str, zone: str) -> None:
        """Log the event; its colour picture is encoded off the loop, when there is one."""
        event = self.events.add(rule, zone)
        colour, report = self.colour, self.last_report
        if colour is None:
            return

        async def picture() -> None:
            try:
                event.picture = await self.ctx.run_blocking(
                    self._encode_colour, colour, report, True, EVENT_WIDTH)
            except (ValueError, av.error.FFmpegError):
                return  # the event stays listed, without a picture

        task = asyncio.get_running_loop().create_task(picture())
        self._picture_tasks.add(task)
        task.add_done_callback(self._picture_tasks.discard)

    def health(self) -> dict[str, Any]:
        """What the camera page shows: up, frame age, rate, size, transport, last error."""
        feed = self.feed
        age = feed.stats.age() if feed is not None else None
        return {
            "frame_age": age,
            "fps": feed.stats.fps if feed is not None else None,
            "size": feed.size if feed is not None else None,
            "transport": self.config.resolved_transport,
            "live": age is not None and age <= float(self.config.analysis_interval) * 3 + 2,
            "district": self.config.district,
            "location": self.config.location,
            "report": self.last_report,
        }

    async def snapshot_jpeg(self, zones: bool = False, colour: bool = True) -> bytes | None:
        """The newest frame as JPEG: in colour (default) or the analysed grey picture;
        zones and people drawn on request. None before the first analysed frame."""
        report = self.last_report
        if colour and self.colour is not None:
            return await self.ctx.run_blocking(self._encode_colour, self.colour, report, zones,
                                               COLOUR_WIDTH)
        frame = self.analyzer.snapshot
        if frame is None or report is None:
            return None
        return await self.ctx.run_blocking(self._encode, frame, report, zones)

    def _encode_colour(self, source: bytes | av.VideoFrame, report: FrameReport | None,
                       zones: bool, width: int) -> bytes:
        image = colour_picture(source, width)
        if zones:
            annotate(image, self.config.zones, report)
        return encode(image)

    def _encode(self, frame: np.ndarray, report: FrameReport, zones: bool) -> bytes:
        image = frame
        if zones:
            image = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            annotate(image, self.config.zones, report)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            raise DecodeError("could not encode snapshot")
        return data.tobytes()
