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
from sitroom_cameras.analysis import FrameReport
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
from sitroom_cameras.models import ModelMissing
from sitroom_cameras.pipeline import CameraAnalysis, Step
from sitroom_cameras.targets import display, http_target, rtsp_credentials, rtsp_url

SECOND_LOOK_MARGIN = 0.1  # s after a reader's longest rest: it has read and parsed by then


def make_feed(config: CameraConfig, ctx: Any) -> Feed:
    """The feed for a camera's transport (constructing it does no I/O)."""
    mode = config.resolved_transport
    cfg = config.analysis
    detector_width = cfg.people_width if cfg.detector == "hog" else cfg.input_width
    min_width = max(cfg.width, detector_width if cfg.people else 0)
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
        self.analysis = CameraAnalysis(config)
        self.analyzer = self.analysis.analyzer
        self.rules = self.analysis.rules
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
        if self.config.analysis.people:
            await self._load_detector()
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

    async def _load_detector(self) -> None:
        """Load the model before connecting: a missing model is a clear, lasting error."""
        try:
            await self.ctx.run_blocking(self.analyzer.detector)
        except (ModelMissing, ValueError, cv2.error) as exc:
            raise SourceError("model", f"camera {self.config.name}: {exc}") from None

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
        if not c.analysis.people:
            return
        self.metrics.inc(m.DETECTOR_RUNS, 0, **self.cam)
        classes = c.analysis.object_classes
        for line in c.lines:
            for cls in line.classes or classes:
                for direction in line.directions:
                    self.metrics.inc(m.LINE_CROSSINGS, 0, line=line.name, direction=direction,
                                     **{"class": cls}, **self.cam)
            if line.event is not None:
                self.metrics.inc(m.EVENTS, 0, zone=line.name, rule="line_crossing", **self.cam)

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
            report = self.analysis.analyse(decoded.grey, decoded.full_size, now)
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
        step = self.analysis.evaluate(r, now, datetime.now(self.tz))
        presence = step.presence
        detecting = self.config.analysis.people
        if detecting:
            self._write_objects(r)
        for zone in self.config.zones:
            name = zone.name
            w.set(m.ZONE_MOTION, r.zone_motion.get(name, 0.0), zone=name, **cam)
            if detecting:
                w.set(m.ZONE_PEOPLE, r.zone_people.get(name, 0), zone=name, **cam)
            if zone.type == "lane":
                occupancy = r.occupancy.get(name, 0.0)
                level = sum(1 for t in zone.congestion_thresholds if occupancy >= t)
                w.set(m.OCCUPANCY, occupancy, zone=name, **cam)
                w.set(m.CONGESTION, level, zone=name, **cam)
        self._write_events(step, r)
        for zone in self.config.zones:
            w.set(m.ZONE_PRESENCE, 1 if presence.get(zone.name) else 0, zone=zone.name, **cam)
            w.set(m.ZONE_DWELL, self.rules.dwell(zone.name, now), zone=zone.name, **cam)
        for (zone_name, rule), active in self.rules.active().items():
            w.set(m.EVENT_ACTIVE, 1 if active else 0, zone=zone_name, rule=rule, **cam)

    def _write_objects(self, r: FrameReport) -> None:
        """Objects per class in the picture and per zone, crossings, tracker size."""
        cam, w = self.cam, self.metrics
        w.set(m.PEOPLE, len(r.people), **cam)
        if r.detected:
            w.inc(m.DETECTOR_RUNS, **cam)
        w.set(m.TRACKS, len(self.analyzer.tracker.tracks), **cam)
        for cls, n in r.counts.items():
            w.set(m.OBJECTS, n, zone="", **{"class": cls}, **cam)
        for zone, counts in r.zone_objects.items():
            for cls, n in counts.items():
                w.set(m.OBJECTS, n, zone=zone, **{"class": cls}, **cam)
        for c in r.crossings:
            w.inc(m.LINE_CROSSINGS, line=c.line, direction=c.direction, **{"class": c.cls}, **cam)

    def _write_events(self, step: Step, report: FrameReport) -> None:
        """Count and log each event, and push it (with its own snapshot) through the core's
        event path; resolve the rules no longer active."""
        info = {"location": self.config.location, "district": self.config.district}
        for event in step.events:
            self.metrics.inc(m.EVENTS, zone=event.zone, rule=event.rule, **self.cam)
            self.log.info("camera_event", camera=self.config.name, zone=event.zone,
                          rule=event.rule, event_id=event.id, object_class=event.cls,
                          track=event.track)
            self._keep_event(event.rule, event.zone)
            camera_events.push(self.ctx.events, self.config.name, info,
                               [(event.zone, event.rule)], {},
                               self._snapshot_of(report, event.id))
        camera_events.push(self.ctx.events, self.config.name, info, [], self.rules.active(),
                           None)

    # -- pictures and events for people ---------------------------------------------------

    def _snapshot_of(self, report: FrameReport, event_id: str | None = None) -> Any:
        """The event's own snapshot (its object's best frame, box drawn) when it has one,
        else the picture of this very frame, encoded only if an event asks for it."""
        frame = self.analyzer.snapshot

        async def encode() -> bytes | None:
            kept = self.analysis.snapshots.get(event_id) if event_id is not None else None
            if kept is not None:
                return kept
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

    def event_snapshot(self, event_id: str) -> bytes | None:
        """The JPEG kept for an event (its object's best frame, box drawn), or None."""
        return self.analysis.snapshots.get(event_id)

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
            annotate(image, self.config.zones, report, self.config.lines)
        return encode(image)

    def _encode(self, frame: np.ndarray, report: FrameReport, zones: bool) -> bytes:
        image = frame
        if zones:
            image = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            annotate(image, self.config.zones, report, self.config.lines)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            raise DecodeError("could not encode snapshot")
        return data.tobytes()
