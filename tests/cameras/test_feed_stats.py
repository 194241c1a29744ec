"""FeedStats: the fps and GOP a camera reports, however its frames arrive."""

from __future__ import annotations

import time

import pytest

from sitroom_cameras.feed import FeedStats


def test_frames_read_in_a_burst_report_the_stream_fps() -> None:
    """A reader that takes half a second of frames at once must not report 10,000 fps."""
    stats = FeedStats()
    for i in range(40):  # 1.6 s of a 25 fps stream, all delivered within a millisecond
        stats.frame(i % 25 == 0, media_time=100.0 + i / 25)
    assert stats.fps == pytest.approx(25.0)
    assert stats.gop == 25


def test_reordered_b_frames_do_not_disturb_the_fps() -> None:
    stats = FeedStats()
    order = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11, 15, 13, 14]  # I P B B P B B ...
    for i in order:
        stats.frame(i == 0, media_time=i / 30)
    assert stats.fps == pytest.approx(30.0)


def test_a_looped_file_starts_a_new_window() -> None:
    stats = FeedStats()
    for i in range(50):
        stats.frame(False, media_time=i / 10)  # 5 s at 10 fps
    for i in range(5):
        stats.frame(False, media_time=i / 10)  # back to the start
    assert stats.fps == pytest.approx(10.0)
    assert stats.frames == 55


def test_without_stream_times_the_fps_comes_from_arrival() -> None:
    stats = FeedStats()
    assert stats.fps == 0.0 and stats.age() is None and stats.last_wall is None
    for _ in range(4):
        stats.frame()
        time.sleep(0.02)
    assert 1 < stats.fps <= 50  # 3 gaps of at least 20 ms
    age = stats.age()
    assert age is not None and 0.015 < age < 1.0
    last_wall = stats.last_wall
    assert last_wall is not None and abs(time.time() - age - last_wall) < 0.05


def test_a_jump_forward_in_stream_time_starts_a_new_window() -> None:
    stats = FeedStats()
    for i in range(30):
        stats.frame(False, media_time=i / 25)
    for i in range(10):
        stats.frame(False, media_time=60 + i / 25)  # the camera's clock jumped a minute
    assert stats.fps == pytest.approx(25.0)


def test_restart_rate_forgets_the_window() -> None:
    stats = FeedStats()
    for i in range(20):  # a 0.8 s clip played twice: times go back by less than a second
        stats.frame(False, media_time=(i % 10) / 12.5)
        if i == 9:
            stats.restart_rate()
    assert stats.fps == pytest.approx(12.5)


def test_a_b_frame_stream_in_decode_order_reports_its_exact_rate() -> None:
    """Decode order I P B B P B B ...: the newest P is two frames ahead of the B-frames
    still to come; a span over the window would read 24.2 fps for a 25 fps stream."""
    stats = FeedStats()
    order = []
    for gop in range(40):  # more than the 64-frame window, so it slides
        base = gop * 3
        order += [base, base + 3, base + 1, base + 2] if gop == 0 else [base + 3, base + 1,
                                                                         base + 2]
    for i in order:
        stats.frame(i == 0, media_time=i / 25)
    assert stats.fps == pytest.approx(25.0)
