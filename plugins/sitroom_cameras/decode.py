"""Turning encoded frames into a grey picture as cheaply as the analysis allows.

Decoding is the budget of a camera fleet, so nothing here decodes more than needed:
- JPEG (snapshots, MJPEG): libjpeg decodes at 1/2, 1/4 or 1/8 scale straight to grey
  (`IMREAD_REDUCED_GRAYSCALE_*`), chosen from the size in the JPEG header.
- H.264/H.265 with a GOP that fits the analysis interval: only keyframes are decoded, each
  on its own (skip_frame=NONKEY, no loop filter); the luma plane is the grey picture, no
  colour conversion.
- Longer GOPs: every frame must be decoded to reach a recent one; the decoder keeps its
  state between calls, and only the newest frame is handed to the analysis.
Everything here runs in the daemon's bounded worker pool, never on the event loop.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import cast

import av
import cv2
import numpy as np
from av.video.codeccontext import VideoCodecContext

_REDUCED = ((8, cv2.IMREAD_REDUCED_GRAYSCALE_8), (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
            (2, cv2.IMREAD_REDUCED_GRAYSCALE_2))
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class DecodeError(Exception):
    """A frame that could not be decoded (counted, never fatal on its own)."""


@dataclass
class Decoded:
    grey: np.ndarray | None
    full_size: tuple[int, int]
    frames: int = 0
    errors: int = 0
    # the picture in colour as the camera sent it (JPEG bytes or the decoded frame): kept,
    # not converted, so the wall can have colour without costing the analysis anything
    colour: bytes | av.VideoFrame | None = None


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's SOF marker, without decoding anything."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return (width, height) if width and height else None
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        i += 2 + length
    return None


def decode_jpeg(data: bytes, min_width: int) -> Decoded:
    """Grey picture at the smallest libjpeg scale that is still at least `min_width` wide."""
    size = jpeg_size(data)
    if size is None:
        raise DecodeError("not a JPEG picture")
    flag = cv2.IMREAD_GRAYSCALE
    for factor, reduced in _REDUCED:
        if size[0] // factor >= min_width:
            flag = reduced
            break
    grey = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if grey is None:
        raise DecodeError("corrupt JPEG picture")
    return Decoded(grey, size, frames=1, colour=data)


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The grey picture of a decoded frame: the Y plane itself for YUV formats (no copy)."""
    name = frame.format.name
    if name.startswith(("yuv", "yuvj", "nv", "gray")):
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        return rows[: frame.height, : frame.width]
    return frame.to_ndarray(format="gray")


class VideoDecoder:
    """A decoder for one camera stream; calls for one camera must be sequential."""

    def __init__(self, codec: str, extradata: bytes | None, size: tuple[int, int] | None
                 ) -> None:
        self.codec = codec
        self.extradata = extradata
        self.size = size  # some codecs (MPEG-4 part 2 variants) need it from the container
        self._ctx: VideoCodecContext | None = None
        self._keyframe_mode: bool | None = None

    def _context(self, keyframes: bool) -> VideoCodecContext:
        if self._ctx is None or self._keyframe_mode != keyframes:
            ctx = cast(VideoCodecContext, av.CodecContext.create(self.codec, "r"))
            if self.extradata:
                ctx.extradata = self.extradata
            if self.size:
                ctx.width, ctx.height = self.size
            ctx.thread_count = 1  # the worker pool is the parallelism; no hidden threads
            if keyframes:
                ctx.skip_frame = "NONKEY"
                # each keyframe is decoded alone and only analysed small: deblocking buys nothing
                ctx.options = {"skip_loop_filter": "all"}
            self._ctx, self._keyframe_mode = ctx, keyframes
        return self._ctx

    def decode(self, packets: list[av.Packet], keyframes: bool) -> Decoded:
        """Decode queued packets; return the newest picture (None if none came out)."""
        ctx = self._context(keyframes)
        last: av.VideoFrame | None = None
        frames = errors = 0
        for packet in packets:
            try:
                out = ctx.decode(packet)
                if keyframes:  # drain the reorder delay so this keyframe comes out now
                    out += ctx.decode(None)
                    ctx.flush_buffers()
            except (av.error.FFmpegError, ValueError):
                errors += 1
                continue
            frames += len(out)
            if out:
                last = out[-1]
        if last is None:
            return Decoded(None, (0, 0), frames, errors)
        return Decoded(luma(last), (last.width, last.height), frames, errors, colour=last)
