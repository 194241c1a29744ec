"""Loopback HTTP cameras for the demo and tests: an MJPEG stream and a JPEG snapshot.

One broadcaster reads the footage (looped, at its own frame rate), encodes each frame to
JPEG once, and every client gets the same bytes: a simulator with many viewers stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import cv2
from aiohttp import web
from pydantic import Field

from sitroom.api import ConfigModel, ConfigPath
from sitroom_cameras.footage import ensure_clip

BOUNDARY = "sitroomframe"


class CameraSimulatorConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(default=18501, ge=1, le=65535)
    footage: ConfigPath = Field(description="Clip to serve; cut from `source_video` when absent.")
    source_video: ConfigPath | None = Field(
        default=None,
        description="Real footage to cut the clip from; default: the street clip shipped in "
        "sitroom_cameras/media.",
    )
    fps: float = Field(default=5.0, gt=0, le=60)
    quality: int = Field(default=75, ge=10, le=100)


class Broadcaster:
    """The current frame as JPEG, advanced at `fps`; readers wait for the next one."""

    def __init__(self, path: Path, fps: float, quality: int) -> None:
        self.path, self.fps, self.quality = path, fps, quality
        self.jpeg: bytes | None = None
        self.changed = asyncio.Condition()
        self._capture: cv2.VideoCapture | None = None

    def _next(self) -> bytes | None:
        if self._capture is None:
            self._capture = cv2.VideoCapture(str(self.path))
        ok, frame = self._capture.read()
        if not ok:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
            if not ok:
                return None
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        return data.tobytes() if ok else None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await loop.run_in_executor(None, self._next)
                if data is not None:
                    async with self.changed:
                        self.jpeg = data
                        self.changed.notify_all()
                await asyncio.sleep(1.0 / self.fps)
        finally:
            if self._capture is not None:
                self._capture.release()

    async def wait(self) -> bytes:
        async with self.changed:
            await self.changed.wait()
            assert self.jpeg is not None
            return self.jpeg


async def run_camera_simulator(config: CameraSimulatorConfig) -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ensure_clip, config.footage, config.source_video)
    caster = Broadcaster(config.footage, config.fps, config.quality)

    async def mjpeg(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control": "no-store"})
        await response.prepare(request)
        while True:
            data = await caster.wait()
            await response.write(
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}"
                f"\r\n\r\n".encode() + data + b"\r\n")

    async def snapshot(request: web.Request) -> web.Response:
        data = caster.jpeg or await caster.wait()
        return web.Response(body=data, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/mjpeg", mjpeg)
    app.router.add_get("/snapshot.jpg", snapshot)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    task = asyncio.create_task(caster.run())
    try:
        await web.TCPSite(runner, config.host, config.port).start()
        await asyncio.Event().wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await runner.cleanup()
