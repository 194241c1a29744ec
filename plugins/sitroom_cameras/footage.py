"""Demo footage that exists on a fresh clone: cut from OpenCV's vtest.avi when it is beside
the repo (../shared/data), otherwise synthesized (walkers and cars drawn with OpenCV).

The clip is small (384x288, 10 fps, GOP 1 s, H.264 via PyAV's bundled encoder, mpeg4 if that
is missing) and generated once into the state directory, never committed.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 384, 288, 10


def ensure_clip(path: Path, source: Path | None = None, seconds: float = 40.0) -> Path:
    """Create `path` if absent (atomically: a half-written clip must never be played)."""
    if path.exists() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.mp4")
    frames = int(seconds * FPS)
    if source is not None and source.exists():
        pictures = _from_video(source, frames)
    else:
        pictures = synthesize(frames)
    write_clip(tmp, pictures, FPS)
    os.replace(tmp, path)
    return path


def write_clip(path: Path, pictures: object, fps: int, gop: int | None = None) -> None:
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop or fps
        if codec == "libx264":
            stream.codec_context.options = {"preset": "veryfast", "bf": "0"}
        first = True
        for bgr in pictures:  # type: ignore[attr-defined]
            if first:
                stream.width, stream.height = bgr.shape[1], bgr.shape[0]
                first = False
            for packet in stream.encode(av.VideoFrame.from_ndarray(bgr, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _from_video(source: Path, frames: int):  # type: ignore[no-untyped-def]
    capture = cv2.VideoCapture(str(source))
    try:
        for _ in range(frames):
            ok, bgr = capture.read()
            if not ok:
                return
            yield cv2.resize(bgr, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    finally:
        capture.release()


def synthesize(frames: int, width: int = WIDTH, height: int = HEIGHT, seed: int = 7):  # type: ignore[no-untyped-def]
    """A street-like scene: textured road, walkers crossing, cars in a lane, light noise."""
    rng = np.random.default_rng(seed)
    base = np.zeros((height, width, 3), np.uint8)
    base[:] = (90, 100, 95)
    cv2.rectangle(base, (0, height // 2), (width, height), (70, 70, 70), -1)
    for x in range(0, width, 24):
        cv2.line(base, (x, height // 2 + 40), (x + 12, height // 2 + 40), (220, 220, 220), 2)
    for _ in range(40):  # buildings and trees give the picture edges to lose when tampered
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height // 2 - 20))
        cv2.rectangle(base, (x, y), (x + int(rng.integers(8, 40)), height // 2),
                      tuple(int(c) for c in rng.integers(40, 200, 3)), -1)
    walkers = [(rng.uniform(0, width), rng.uniform(height * 0.3, height * 0.5),
                rng.choice([-1.5, 1.5])) for _ in range(4)]
    for i in range(frames):
        img = base.copy()
        for k, (x0, y, v) in enumerate(walkers):
            x = (x0 + v * i) % width
            cv2.ellipse(img, (int(x), int(y)), (6, 18), 0, 0, 360, (30 + 40 * k, 40, 160), -1)
            cv2.circle(img, (int(x), int(y) - 24), 6, (150, 170, 200), -1)
        cx = int((i * 6) % (width + 80)) - 40
        cv2.rectangle(img, (cx, height // 2 + 10), (cx + 50, height // 2 + 34), (20, 20, 160), -1)
        noise = rng.integers(-3, 4, img.shape, dtype=np.int16)
        yield np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
