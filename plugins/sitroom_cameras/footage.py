"""Demo footage that exists on a fresh clone, cut from the real clip shipped in `media/`.

`media/vtest.mp4` is OpenCV's street sample (see media/README.md for provenance and
licence). The demo's loopback cameras serve a smaller cut of it (384x288, 10 fps, GOP 1 s,
H.264 via PyAV's bundled encoder, mpeg4 if that is missing): JPEG-encoding a quarter of the
pixels keeps the demo cheap. The cut is made once into the state directory, never committed.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 384, 288, 10
SHIPPED_CLIP = Path(__file__).resolve().parent / "media" / "vtest.mp4"
"""Real street footage installed with the plugin (768x576, 10 fps, 795 frames)."""


def ensure_clip(path: Path, source: Path | None = None, seconds: float = 40.0) -> Path:
    """Create `path` from `source` (default: the shipped clip) if absent.

    Written atomically: a half-written clip must never be played. A missing source is an
    error that names the file, not a silent fallback to something else.
    """
    if path.exists() and path.stat().st_size > 0:
        return path
    source = SHIPPED_CLIP if source is None else source
    if not source.is_file():
        raise FileNotFoundError(f"demo footage source {source} does not exist")
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures = _from_video(source, int(seconds * FPS))
    first = next(pictures, None)
    if first is None:
        raise ValueError(f"demo footage source {source} has no readable video frames")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.mp4")
    try:
        write_clip(tmp, itertools.chain([first], pictures), FPS)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_clip(path: Path, pictures: Iterable[np.ndarray], fps: int,
               gop: int | None = None) -> None:
    """Encode BGR pictures (at least one) to `path`."""
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    first = True
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop or fps
        if codec == "libx264":
            stream.codec_context.options = {"preset": "veryfast", "bf": "0"}
        for bgr in pictures:
            if first:
                stream.width, stream.height = bgr.shape[1], bgr.shape[0]
                first = False
            for packet in stream.encode(av.VideoFrame.from_ndarray(bgr, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _from_video(source: Path, frames: int) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(source))
    try:
        for _ in range(frames):
            ok, bgr = capture.read()
            if not ok:
                return
            yield cv2.resize(bgr, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    finally:
        capture.release()
