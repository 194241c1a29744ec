"""A live HLS camera on loopback: ffmpeg cuts the shipped footage into a sliding playlist.

`HlsProducer` runs ffmpeg the way a camera or an NVR's HLS output behaves: real-time pace,
a keyframe every second, 2 s segments, a playlist of the last five that slides (old
segments deleted). The simulator serves the directory over HTTP; tests start and stop the
producer themselves to make a camera freeze.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from aiohttp import web
from pydantic import Field

from sitroom.api import ConfigModel, ConfigPath, serving

PLAYLIST = "live.m3u8"


def shipped_footage() -> Path:
    return Path(str(resources.files("sitroom_cameras").joinpath("media/vtest.mp4")))


class HlsProducer:
    """ffmpeg writing `live.m3u8` and its segments into `directory` until stopped."""

    def __init__(self, footage: Path, directory: Path, *, segment_seconds: float = 2.0,
                 list_size: int = 5, playlist_type: str | None = None) -> None:
        self.footage = footage
        self.directory = directory
        self.segment_seconds = segment_seconds
        self.list_size = list_size
        self.playlist_type = playlist_type  # None (live, sliding) or "event" (growing)
        self.process: asyncio.subprocess.Process | None = None

    def command(self) -> list[str]:
        ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
        flags = ["-hls_list_size", str(self.list_size),
                 "-hls_flags", "delete_segments+independent_segments"]
        if self.playlist_type == "event":
            flags = ["-hls_list_size", "0", "-hls_playlist_type", "event"]
        return [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
                "-stream_loop", "-1", "-i", str(self.footage), "-an", "-c:v", "libx264",
                "-preset", "veryfast", "-tune", "zerolatency", "-g", "10",
                "-keyint_min", "10", "-sc_threshold", "0", "-f", "hls",
                "-hls_time", f"{self.segment_seconds:g}", *flags,
                "-hls_segment_filename", str(self.directory / "seg%05d.ts"),
                str(self.directory / PLAYLIST)]

    async def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            *self.command(), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def wait_ready(self, within: float = 20.0) -> None:
        """Until the first playlist with a segment exists."""
        deadline = asyncio.get_running_loop().time() + within
        playlist = self.directory / PLAYLIST
        while asyncio.get_running_loop().time() < deadline:
            if playlist.exists() and ".ts" in playlist.read_text(errors="replace"):
                return
            if self.process is not None and self.process.returncode is not None:
                raise RuntimeError(f"ffmpeg exited with {self.process.returncode}")
            await asyncio.sleep(0.1)
        raise TimeoutError("no HLS playlist from ffmpeg")

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


def directory_app(directory: Path) -> web.Application:
    """Serve the playlist and segments as files; playlists must not be cached."""

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = directory / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        kind = ("application/vnd.apple.mpegurl" if name.endswith(".m3u8") else "video/mp2t")
        return web.Response(body=path.read_bytes(), content_type=kind,
                            headers={"Cache-Control": "no-cache"})

    app = web.Application()
    app.router.add_get("/{name}", serve)
    return app


class HlsSimulatorConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(default=18502, ge=0, le=65535)
    footage: ConfigPath | None = Field(default=None,
                                       description="Video to loop (default: the shipped clip).")
    segment_seconds: float = Field(default=2.0, gt=0.5, le=10)
    list_size: int = Field(default=5, ge=2, le=30)


async def run_hls_simulator(config: HlsSimulatorConfig) -> None:
    directory = Path(tempfile.mkdtemp(prefix="sitroom-hls-"))
    producer = HlsProducer(Path(config.footage) if config.footage else shipped_footage(),
                           directory, segment_seconds=config.segment_seconds,
                           list_size=config.list_size)
    try:
        await producer.start()
        async with serving(directory_app(directory), config.host, config.port):
            await asyncio.Event().wait()
    finally:
        await producer.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(directory)
