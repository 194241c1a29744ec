"""Fixtures for the cameras tests: real H.264 clips made with ffmpeg, real stream servers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitroom.testing import SourceHarness
from sitroom_cameras.footage import SHIPPED_CLIP
from tests.support import ManagedProcess, free_port, require_tool, wait_until

HERE = Path(__file__).parent
GST_PYTHON = "/usr/bin/python3"


def make_clip(out: Path, *, seconds: float, size: str = "320x240", fps: int = 10,
              gop: int = 10, source: Path | None = None, codec: str = "libx264") -> Path:
    """An H.264 (or `codec`) MP4 made with ffmpeg: cut from `source` (looped), or ffmpeg's
    testsrc2."""
    ffmpeg = require_tool("ffmpeg")
    if source is not None:
        inputs = ["-stream_loop", "-1", "-i", str(source)]
    else:
        inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", *inputs, "-t", str(seconds), "-vf",
         f"scale={size.replace('x', ':')},fps={fps}", "-c:v", codec, "-preset", "ultrafast",
         "-g", str(gop), "-keyint_min", str(gop), "-pix_fmt", "yuv420p", "-an",
         *(["-tag:v", "hvc1", "-x265-params", "log-level=error"] if codec == "libx265" else []),
         str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="session")
def street_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 s of real street footage (the shipped vtest.mp4) as 320x240 H.264, GOP 1 s."""
    out = tmp_path_factory.mktemp("clips") / "street.mp4"
    return make_clip(out, seconds=30, source=SHIPPED_CLIP)


@pytest.fixture(scope="session")
def vtest() -> Path:
    """OpenCV's street sample as shipped in the repository (768x576, 10 fps, H.264)."""
    return SHIPPED_CLIP


class RtspServer:
    def __init__(self, clip: Path, *extra: str) -> None:
        require_tool("gst-launch-1.0")
        probe = subprocess.run([GST_PYTHON, "-c", "import gi; gi.require_version("
                                "'GstRtspServer', '1.0')"], capture_output=True)
        if probe.returncode != 0:
            require_tool("python3-gst-rtsp-server (GstRtspServer typelib)")
        self.clip = clip
        self.extra = extra  # rtsp_server.py options: --codec ..., --auth METHOD USER PASSWORD
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/cam"
        self.proc: ManagedProcess | None = None

    def start(self) -> None:
        self.proc = ManagedProcess([GST_PYTHON, str(HERE / "rtsp_server.py"), str(self.port),
                                    str(self.clip), *self.extra])
        wait_until(lambda: "READY" in self.proc.output() or self.proc.proc.poll() is not None,
                   what="rtsp server")
        assert self.proc.proc.poll() is None, self.proc.output()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.__exit__(None, None, None)
            self.proc = None


@pytest.fixture
def rtsp_server(street_clip: Path) -> Iterator[RtspServer]:
    server = RtspServer(street_clip)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def sitroom_cli() -> list[str]:
    return [sys.executable, "-m", "sitroom.cli"]


async def wait_value(h: SourceHarness, metric: str, predicate, within: float = 15.0,  # type: ignore[no-untyped-def]
                     **labels: str) -> float:
    """Wait until the harness's metric satisfies `predicate`; its value."""
    await h.wait_for(lambda: (v := h.value(metric, **labels)) is not None and predicate(v),
                     within=within)
    value = h.value(metric, **labels)
    assert value is not None
    return value
