"""The MJPEG multipart splitter: parts cut right however the bytes are chunked, bounded."""

from __future__ import annotations

import pytest

from sitroom_cameras.feed_http import FrameTooLarge, MultipartSplitter

MARKER = b"--frame"


def stream(bodies: list[bytes]) -> bytes:
    return b"".join(MARKER + b"\r\nContent-Type: image/jpeg\r\n\r\n" + b + b"\r\n"
                    for b in bodies) + MARKER


def split(data: bytes, chunk: int, max_bytes: int = 1 << 20) -> list[bytes]:
    splitter = MultipartSplitter(MARKER, max_bytes)
    parts: list[bytes] = []
    for start in range(0, len(data), chunk):
        parts += splitter.feed(data[start:start + chunk])
    return parts


@pytest.mark.parametrize("chunk", [1, 3, len(MARKER) - 1, len(MARKER), 1000, 1 << 20])
def test_parts_are_the_same_whatever_the_chunking(chunk: int) -> None:
    bodies = [bytes([i]) * (200 + 37 * i) for i in range(1, 9)]
    data = b"garbage before the first marker" + stream(bodies)
    parts = split(data, chunk)
    assert [p.partition(b"\r\n\r\n")[2].rstrip(b"\r\n") for p in parts] == bodies


def test_no_marker_at_all_fails_past_the_cap_instead_of_growing() -> None:
    splitter = MultipartSplitter(MARKER, 10_000)
    fed = 0
    with pytest.raises(FrameTooLarge, match="no multipart boundary"):
        while fed < 1_000_000:
            splitter.feed(b"\xff\xd8" + b"x" * 998)
            fed += 1000
    assert fed <= 11_000  # failed as soon as the cap was passed, not at the end


def test_one_part_larger_than_the_cap_fails() -> None:
    splitter = MultipartSplitter(MARKER, 10_000)
    assert len(splitter.feed(stream([b"a" * 100]))) == 1  # its closing marker opens the next
    with pytest.raises(FrameTooLarge, match="without a complete part"):
        for _ in range(20):
            splitter.feed(b"b" * 1000)
