"""The RTSP/file reader's bookkeeping, fed packets directly (no stream, no thread), and
the source's second look for a keyframe still in a resting reader.

What is decoded depends on it: keyframes only while the GOP fits the analysis interval,
every frame from the last keyframe on once it does not.
"""

from __future__ import annotations

import time

import av
import numpy as np
import pytest

from sitroom_cameras import feed_av
from sitroom_cameras.decode import Decoded
from sitroom_cameras.feed import Feed, Pending
from sitroom_cameras.feed_av import AvFeed


def reader(nominal_fps: float) -> AvFeed:
    feed = AvFeed("/dev/null", name="t", transport="rtsp_tcp", interval=1.0)
    feed.nominal_fps = nominal_fps
    feed.codec = "h264"
    return feed


def packets(feed: AvFeed, count: int, gop: int, fps: float, start: int = 0) -> list[av.Packet]:
    sent = []
    for i in range(start, start + count):
        packet = av.Packet(b"\x00" * 100)
        packet.is_keyframe = i % gop == 0
        feed._on_frame(packet.is_keyframe, packet, media_time=i / fps)
        sent.append(packet)
    return sent


def test_a_slower_stream_than_announced_switches_within_its_first_gop() -> None:
    """Announced 25 fps, really 2 fps, a keyframe every 30 frames (15 s): waiting for the
    container's guess (37 frames) would leave the camera unanalysed for 15 s."""
    feed = reader(nominal_fps=25.0)
    sent = packets(feed, 6, gop=30, fps=2.0)
    assert feed.mode == "all"
    assert feed._queue[0] is sent[0]  # decoding starts from the GOP's keyframe


def test_a_gop_that_grows_switches_and_decoding_starts_at_a_keyframe() -> None:
    """GOP 15 at 10 fps fits a 1 s interval (1.5 s); the camera then goes to GOP 40."""
    feed = reader(nominal_fps=0.0)  # no guess at all: only the measured rate counts
    sent = packets(feed, 30, gop=15, fps=10.0)
    assert feed.mode == "keyframes" and feed.stats.gop == 15
    sent += packets(feed, 100, gop=40, fps=10.0, start=30)
    assert feed.mode == "all"
    first = feed._queue[0]
    assert first.is_keyframe  # never a GOP's tail the decoder cannot use
    assert feed._queue == sent[sent.index(first):]  # and nothing since dropped


def test_a_short_gop_keeps_decoding_keyframes_only() -> None:
    feed = reader(nominal_fps=25.0)
    packets(feed, 200, gop=25, fps=25.0)
    assert feed.mode == "keyframes"
    assert feed._queue == []
    assert feed._key is not None and feed._key.is_keyframe
    assert feed.stats.gop == 25


def test_a_high_bitrate_stream_rests_less(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A rest lets the kernel buffer the stream: it may not outgrow BURST_BYTES."""
    feed = reader(nominal_fps=25.0)
    slept: list[float] = []
    monkeypatch.setattr(feed, "_sleep", lambda seconds: slept.append(seconds) or False)
    clock = [100.0]
    monkeypatch.setattr(feed_av.time, "monotonic", lambda: clock[0])
    feed._rest()  # first rest: no rate known yet
    for megabits in (4, 8, 16):
        clock[0] += 1.0
        feed._bytes_since_rest = megabits * 1_000_000 // 8  # one second of stream
        feed._rest()
    assert slept[0] == feed.burst == feed_av.BURST
    assert slept[1] == feed_av.BURST  # 4 Mbit/s: 0.5 s is 250 kB, under the cap
    assert abs(slept[2] - feed_av.BURST_BYTES / 1_000_000) < 1e-9  # 8 Mbit/s: 0.26 s
    assert abs(slept[3] - feed_av.BURST_BYTES / 2_000_000) < 1e-9  # 16 Mbit/s: 0.13 s


def test_slack_is_granted_only_while_resting() -> None:
    feed = reader(nominal_fps=25.0)
    assert feed.slack() == 0.0
    feed.resting = True
    assert feed.slack() == feed_av.BURST
    udp = AvFeed("/dev/null", name="u", transport="rtsp_udp")
    udp.resting = True
    assert udp.slack() == 0.0  # UDP readers never rest


class LateKeyframes(Feed):
    """A resting reader whose keyframes turn up just after one tick and just before the
    next (times in seconds after open): the first would be replaced by the second unless
    the source looks again once the reader has surely read it."""

    transport = "test"
    burst = 0.5

    def __init__(self, arrivals: list[float]) -> None:
        super().__init__()
        self.mode = "keyframes"
        self.arrivals = arrivals
        self.opened = 0.0

    async def open(self) -> None:
        self.opened = time.monotonic()

    async def grab(self) -> Pending | None:
        now = time.monotonic() - self.opened
        arrived = [t for t in self.arrivals if t <= now]
        if not arrived:
            return None
        self.arrivals = [t for t in self.arrivals if t > now]
        self.stats.frame(True)
        grey = np.full((240, 320), 40 + 10 * len(self.arrivals), np.uint8)
        return lambda: Decoded(grey, (320, 240), frames=1)  # only the newest one

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(("interval", "arrivals"), [(1.0, [0.2, 0.9]), (2.0, [0.2, 1.8])])
async def test_a_keyframe_just_after_a_tick_is_analysed_not_replaced(  # type: ignore[no-untyped-def]
    monkeypatch, interval: float, arrivals: list[float]
) -> None:
    import sitroom_cameras as plugin
    from sitroom.testing import SourceHarness
    from sitroom_cameras import source

    feed = LateKeyframes(arrivals)  # ticks at 0 and `interval`
    monkeypatch.setattr(source, "make_feed", lambda config, ctx: feed)
    config = {"kind": "camera", "name": "late", "path": "/dev/null",
              "analysis_interval": interval, "analysis": {"people": False}}
    async with SourceHarness.from_plugin(plugin, config) as h:
        h.start()
        feed.stats.frame(True)  # the camera is sending
        await h.wait_for(lambda: h.value("sitroom_camera_frames_analysed_total",
                                         camera="late") == 2, within=4)
