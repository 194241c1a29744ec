"""Cheap decoding: JPEG headers, reduced JPEG decoding, bad pictures, the demo clip."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from sitroom_cameras.decode import DecodeError, decode_jpeg, jpeg_size
from sitroom_cameras.footage import SHIPPED_CLIP, ensure_clip


def jpeg(width: int, height: int) -> bytes:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_jpeg_size_reads_the_header_only() -> None:
    assert jpeg_size(jpeg(1920, 1080)) == (1920, 1080)
    assert jpeg_size(b"") is None
    assert jpeg_size(b"\x89PNG\r\n\x1a\n....") is None
    assert jpeg_size(b"\xff\xd8\xff\xe0\x00\x10JFIF") is None  # truncated before SOF


@pytest.mark.parametrize(("min_width", "width"), [(200, 240), (320, 480), (480, 480),
                                                  (800, 960), (1920, 1920)])
def test_jpeg_is_decoded_at_the_smallest_scale_that_is_wide_enough(min_width: int,
                                                                   width: int) -> None:
    decoded = decode_jpeg(jpeg(1920, 1080), min_width)
    assert decoded.grey is not None and decoded.grey.ndim == 2
    assert decoded.grey.shape[1] == width
    assert decoded.full_size == (1920, 1080)


def test_corrupt_pictures_raise_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode_jpeg(b"<html>login required</html>", 320)
    good = jpeg(640, 480)
    with pytest.raises(DecodeError):
        decode_jpeg(good[:400], 320)  # header intact, picture data cut off


def test_demo_clip_is_cut_from_the_shipped_footage(tmp_path: Path) -> None:
    clip = ensure_clip(tmp_path / "demo.mp4", seconds=3)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
    assert len(packets) == 30
    assert sum(p.is_keyframe for p in packets) == 3  # GOP of one second
    assert (stream.codec_context.width, stream.codec_context.height) == (384, 288)
    first = cv2.VideoCapture(str(clip)).read()[1]
    original = cv2.VideoCapture(str(SHIPPED_CLIP)).read()[1]
    shrunk = cv2.resize(original, (384, 288), interpolation=cv2.INTER_AREA)
    assert float(np.abs(first.astype(int) - shrunk.astype(int)).mean()) < 6  # the same street
    before = clip.stat().st_mtime_ns
    assert ensure_clip(clip, None).stat().st_mtime_ns == before  # made once, then reused


def test_demo_clip_source_that_is_missing_or_not_video_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"absent\.mp4"):
        ensure_clip(tmp_path / "demo.mp4", tmp_path / "absent.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(ValueError, match=r"junk\.mp4"):
        ensure_clip(tmp_path / "demo.mp4", junk)
    assert not (tmp_path / "demo.mp4").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["junk.mp4"]  # no half-written clip left
