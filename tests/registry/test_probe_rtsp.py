"""The registry's RTSP probe against a real RTSP server (GStreamer) on loopback.

The server script belongs to the cameras tests (tests/cameras/rtsp_server.py); it is run,
not copied. The clip is real H.264 made with ffmpeg. Every probe goes through the
`sitroom.rtspguard` relay, so the decode test is also the relay's normal-session test.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from sitroom.netguard import NetGuard
from sitroom_registry.probe import ProbeTarget, probe
from tests.cameras.fakertsp import RedirectingRtspServer, Witness
from tests.support import REPO, ManagedProcess, free_port, require_tool, wait_until

GST_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def rtsp_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    ffmpeg = require_tool("ffmpeg")
    require_tool("gst-launch-1.0")
    check = subprocess.run(
        [GST_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
        check=False,
    )
    if check.returncode != 0:
        require_tool("python3-gst-rtsp-server (GstRtspServer typelib)")
    clip = tmp_path_factory.mktemp("rtsp") / "clip.mp4"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=352x288:rate=10",
            "-t",
            "5",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "10",
            "-pix_fmt",
            "yuv420p",
            "-an",
            str(clip),
        ],
        check=True,
    )
    port = free_port()
    script = REPO / "tests" / "cameras" / "rtsp_server.py"
    with ManagedProcess([GST_PYTHON, str(script), str(port), str(clip)]) as server:
        wait_until(
            lambda: "READY" in server.output() or server.proc.poll() is not None, what="rtsp server"
        )
        assert server.proc.poll() is None, server.output()
        yield port


async def run_blocking(func: Any, *args: Any) -> Any:
    return await asyncio.to_thread(func, *args)


async def test_rtsp_probe_decodes_a_frame(rtsp_port: int) -> None:
    guard = NetGuard(allow_networks=["127.0.0.1/32"], allowed_ports=[rtsp_port])
    result = await probe(
        ProbeTarget("rtsp", "127.0.0.1", rtsp_port, "/cam"), guard, 10.0, 4_000_000, run_blocking
    )
    assert (result.result, result.width, result.height, result.codec) == ("ok", 352, 288, "h264"), (
        result
    )
    assert result.address == "127.0.0.1"


async def test_rtsp_probe_failures_name_no_url(rtsp_port: int) -> None:
    guard = NetGuard(allow_networks=["127.0.0.1/32"])
    target = ProbeTarget("rtsp", "127.0.0.1", rtsp_port, "/nothing-here", "admin", "pw-secret")
    result = await probe(target, guard, 5.0, 4_000_000, run_blocking)
    assert result.result in ("connect", "not_image", "decode"), result
    assert "pw-secret" not in result.detail and "rtsp://" not in result.detail
    refused = await probe(
        ProbeTarget("rtsp", "127.0.0.1", rtsp_port, "/cam"),
        NetGuard(),
        5.0,
        4_000_000,
        run_blocking,
    )
    assert refused.result == "refused"  # loopback without an allow-list: never opened


async def test_rtsp_probe_refuses_a_redirect_and_reaches_nothing_else() -> None:
    """A "camera" answering DESCRIBE with 302 to another address: FFmpeg would follow it."""
    witness = await Witness().start()
    server = await RedirectingRtspServer(f"rtsp://127.0.0.1:{witness.port}/").start()
    try:
        guard = NetGuard(allow_networks=["127.0.0.1/32"], allowed_ports=[server.port])
        target = ProbeTarget("rtsp", "127.0.0.1", server.port, "/cam", "admin", "pw-secret")
        result = await probe(target, guard, 5.0, 4_000_000, run_blocking)
    finally:
        await server.stop()
        await witness.stop()
    assert result.result == "redirect", result
    assert "register the final URL" in result.detail and "pw-secret" not in result.detail
    assert server.methods[:2] == ["OPTIONS", "DESCRIBE"]  # the camera itself was asked
    assert witness.connections == 0
