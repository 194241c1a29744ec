"""HLS cameras per CPU core beside RTSP, in one short run (issue 19).

Streams: 1080p H.264 testsrc2, 25 fps, GOP 25 (1 s), 4 Mbit/s, made live by ffmpeg, as
bench/cameras.py makes them. In the same run, 20 real `camera` sources for 15 s each after a
warm-up, CPU of the whole process (servers and encoders are separate processes, not
counted, but share the cores):
- RTSP/TCP from GStreamer's RTSP server, read by sitroom's own client (the reference row of
  bench/cameras.py);
- HLS, 2 s segments in a sliding playlist served by a plain HTTP server, read the sitroom
  way (`transport: hls`: playlist followed here, newest segment fetched through the guarded
  HTTP client, demuxed, its newest keyframe decoded);
- the same HLS stream read by FFmpeg's own HLS demuxer (PyAV, keyframes only, the reader
  used for RTSP files): the alternative the issue asked to measure. It cannot check segment
  hosts against the SSRF guard, so sitroom does not offer it; it is measured to know what
  the guarded way costs.

    .venv/bin/python -m bench cameras_hls          (about 2 minutes on 2 cores)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from unittest import mock

from bench.cameras import (
    FPS,
    LIVE_CAMERAS,
    LIVE_SECONDS,
    RtspServer,
    _row,
    make_clip,
)
from bench.cameras import _live as cameras_live


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HlsServer:
    """ffmpeg making a live 1080p HLS stream, and a separate HTTP server for its files."""

    def __init__(self, directory: Path) -> None:
        ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
        self.port = free_port()
        self.encoder = subprocess.Popen(
            [ffmpeg, "-v", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
             f"testsrc2=size=1920x1080:rate={FPS}", "-c:v", "libx264", "-preset", "ultrafast",
             "-profile:v", "main", "-g", str(FPS), "-keyint_min", str(FPS),
             "-sc_threshold", "0", "-b:v", "4M", "-maxrate", "4M", "-bufsize", "4M",
             "-pix_fmt", "yuv420p", "-f", "hls", "-hls_time", "2", "-hls_list_size", "5",
             "-hls_flags", "delete_segments+independent_segments",
             "-hls_segment_filename", str(directory / "seg%05d.ts"),
             str(directory / "live.m3u8")])
        self.http = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
             "--directory", str(directory)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        playlist = directory / "live.m3u8"
        while not (playlist.exists() and ".ts" in playlist.read_text(errors="replace")):
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("no HLS playlist from ffmpeg")
            time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/live.m3u8"

    def close(self) -> None:
        for process in (self.encoder, self.http):
            process.terminate()
            process.wait(10)


async def _live(source: dict[str, object], ffmpeg_hls: bool = False
                ) -> tuple[float, int, Counter[str]]:
    from sitroom_cameras import source as camera_source
    from sitroom_cameras.feed_av import AvFeed

    def ffmpeg_feed(config, ctx):  # type: ignore[no-untyped-def]
        return AvFeed(config.url, name=config.name, transport="hls", interval=1.0,
                      long_gop="keyframes", open_timeout=10.0, read_timeout=20.0,
                      min_width=320)

    patch = (mock.patch.object(camera_source, "make_feed", ffmpeg_feed) if ffmpeg_hls
             else mock.patch.object(camera_source, "make_feed", camera_source.make_feed))
    with patch:  # segments take a while to arrive: a longer warm-up and stall timeout
        return await cameras_live({**source, "stall_timeout": "20s"}, LIVE_CAMERAS,
                                  LIVE_SECONDS, warm_up=6.0)


def live_row(label: str, source: dict[str, object], ffmpeg_hls: bool = False) -> str:
    used, analysed, by_role = asyncio.run(_live(source, ffmpeg_hls))
    camera_seconds = LIVE_CAMERAS * LIVE_SECONDS
    split = " + ".join(f"{role} {1000 * by_role[role] / camera_seconds:.1f}"
                       for role in ("decode+analysis", "readers", "event loop", "other")
                       if by_role.get(role))
    per_analysis = f"{1000 * used / analysed:.1f} ms per analysis" if analysed else "-"
    return _row(f"{label}: {LIVE_CAMERAS} cameras, whole process", used, camera_seconds,
                f"{split} ms; {analysed} analyses in {LIVE_SECONDS:.0f} s ({per_analysis})")


def main() -> None:
    print(f"machine: {os.cpu_count()} cores; load before: {os.getloadavg()}")
    rows = ["| pipeline | CPU per camera-second | cameras per core | note |",
            "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-hls-") as tmp:
        if RtspServer.available():
            clip = make_clip(Path(tmp) / "rtsp.mp4", None, seconds=int(LIVE_SECONDS) + 12)
            server = RtspServer(clip)
            try:
                rows.append(live_row("RTSP/TCP, sitroom's reader (testsrc2 1080p)",
                                     {"url": server.url, "transport": "rtsp_tcp"}))
            finally:
                server.close()
        else:
            print("GStreamer's RTSP server is not installed: no RTSP row", file=sys.stderr)
        directory = Path(tmp) / "hls"
        directory.mkdir()
        hls = HlsServer(directory)
        try:
            rows.append(live_row("HLS 2 s segments, sitroom (guarded fetch, newest keyframe)",
                                 {"url": hls.url}))
            rows.append(live_row("HLS 2 s segments, FFmpeg's HLS demuxer (keyframes only)",
                                 {"url": hls.url}, ffmpeg_hls=True))
        finally:
            hls.close()
    print("\n".join(rows))
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
