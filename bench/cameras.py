"""Cameras per CPU core at 1 analysed frame/s: sitroom's pipeline vs the naive OpenCV loop.

Streams: 1080p H.264, 25 fps, GOP 1 s (25 frames), made with ffmpeg into a temp dir, from
real footage (OpenCV's vtest.avi, upscaled) when ../shared/data is present, and ffmpeg's
testsrc2 (a detailed synthetic picture, the harder case for the decoder).

Measured in one run, CPU time (all threads) per second of video:
- naive: `cv2.VideoCapture.read()` every frame (decode + BGR conversion of all 25 frames/s),
  analysing one frame a second with the same Analyzer;
- sitroom pipeline: demux every packet, decode only keyframes (1 per second) as the camera
  source does, analyse each with the same Analyzer;
- sitroom live: N file cameras through the real CameraSource (reader threads, event loop,
  worker pool of 2), played in real time for a fixed wall time; CPU of the whole process.
cameras per core = video seconds per CPU second. People detection (HOG) is off in the main
figures and measured separately: it costs far more than decoding when people are in view.

    .venv/bin/python -m bench cameras          (about 1.5 minutes on 2 cores)
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

import av
import cv2

SECONDS = 12
FPS = 25
LIVE_CAMERAS = 20
LIVE_SECONDS = 15.0
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "video" / "vtest.avi"


def make_clip(out: Path, source: Path | None, size: str = "1920:1080",
              bitrate: str = "4M") -> Path:
    """A camera-like H.264 stream: main profile, constant ~bitrate (a typical 1080p CCTV
    main stream runs at 4 Mbit/s), a keyframe every second and no scene-cut keyframes."""
    ffmpeg = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
    if source is not None:
        inputs = ["-stream_loop", "-1", "-i", str(source)]
    else:
        inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size.replace(':', 'x')}:rate={FPS}"]
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", *inputs, "-t", str(SECONDS), "-vf",
         f"scale={size},fps={FPS}", "-c:v", "libx264", "-preset", "veryfast",
         "-profile:v", "main", "-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0",
         "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate, "-pix_fmt", "yuv420p",
         "-an", str(out)],
        check=True,
    )
    return out


def _config(path: Path, name: str = "bench", people: bool = False):  # type: ignore[no-untyped-def]
    from sitroom_cameras.config import CameraConfig

    return CameraConfig.model_validate({
        "kind": "camera", "name": name, "path": str(path),
        "analysis": {"people": people},
        "zones": [{"name": "lane", "type": "lane",
                   "polygon": [[0, 540], [1920, 540], [1920, 1080], [0, 1080]]},
                  {"name": "plaza", "polygon": [[0, 0], [960, 0], [960, 540], [0, 540]]}],
    })


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def naive(path: Path, people: bool = False) -> tuple[float, int]:
    """VideoCapture.read() on every frame, analysing one per second."""
    from sitroom_cameras.analysis import Analyzer

    analyzer = Analyzer(_config(path, people=people))
    capture = cv2.VideoCapture(str(path))
    start, frames = cpu(), 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if frames % FPS == 0:
            grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            analyzer.analyse(grey, (grey.shape[1], grey.shape[0]), frames / FPS)
        frames += 1
    capture.release()
    return cpu() - start, frames


def pipeline(path: Path, people: bool = False) -> tuple[float, int, float]:
    """What a camera source does per second of video: demux all, decode keyframes only."""
    from sitroom_cameras.analysis import Analyzer
    from sitroom_cameras.decode import VideoDecoder
    from sitroom_cameras.feed import FeedStats

    analyzer = Analyzer(_config(path, people=people))
    start = cpu()
    container = av.open(str(path))
    stream = container.streams.video[0]
    ctx = stream.codec_context
    decoder = VideoDecoder(ctx.name, bytes(ctx.extradata or b""), (ctx.width, ctx.height))
    stats, analysed, key_bytes = FeedStats(), 0, 0
    for packet in container.demux(stream):
        if not packet.size:
            continue
        stats.frame(bool(packet.is_keyframe))
        if packet.is_keyframe:
            key_bytes += packet.size
            decoded = decoder.decode([packet], keyframes=True)
            if decoded.grey is not None:
                analyzer.analyse(decoded.grey, decoded.full_size, analysed)
                analysed += 1
    container.close()
    return cpu() - start, analysed, key_bytes / max(analysed, 1) / 1024


async def _live(path: Path, cameras: int, seconds: float) -> tuple[float, int]:
    from concurrent.futures import ThreadPoolExecutor

    import sitroom_cameras as plugin
    from sitroom.testing import SourceHarness

    harnesses = [SourceHarness.from_plugin(plugin, {
        "kind": "camera", "name": f"cam{i}", "path": str(path), "analysis": {"people": False}})
        for i in range(cameras)]
    pool = ThreadPoolExecutor(max_workers=2)
    for h in harnesses:
        h.ctx._executor = pool  # one bounded pool for all cameras, as in the daemon
        h.start()
    await asyncio.sleep(3.0)  # connect and warm up
    start = cpu()
    before = sum(h.value("sitroom_camera_frames_analysed_total", camera=h.ctx.name) or 0
                 for h in harnesses)
    await asyncio.sleep(seconds)
    used = cpu() - start
    after = sum(h.value("sitroom_camera_frames_analysed_total", camera=h.ctx.name) or 0
                for h in harnesses)
    for h in harnesses:
        await h.__aexit__(None, None, None)
    pool.shutdown(wait=False)
    return used, int(after - before)


def _row(label: str, cpu_seconds: float, video_seconds: float, note: str = "") -> str:
    per_core = video_seconds / cpu_seconds if cpu_seconds else float("inf")
    ms = 1000 * cpu_seconds / video_seconds
    return f"| {label} | {ms:.1f} ms | {per_core:.0f} | {note} |"


def main() -> None:
    cv2.setNumThreads(1)
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
                 platform.machine()) if Path("/proc/cpuinfo").exists() else platform.machine()
    print(f"machine: {model}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, opencv {cv2.__version__}, PyAV {av.__version__}")
    print(f"load before: {os.getloadavg()}")
    rows = ["| pipeline | CPU per camera-second | cameras per core | note |",
            "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-cameras-") as tmp:
        clips = {"testsrc2": make_clip(Path(tmp) / "testsrc2.mp4", None)}
        if SHARED.exists():
            clips["vtest"] = make_clip(Path(tmp) / "vtest.mp4", SHARED)
        for name, clip in clips.items():
            used, frames = naive(clip)
            rows.append(_row(f"naive VideoCapture.read() every frame ({name})", used,
                             frames / FPS, f"{frames} frames decoded"))
            used, analysed, key_kb = pipeline(clip)
            rows.append(_row(f"sitroom keyframes only ({name})", used, SECONDS,
                             f"{analysed} keyframes of {key_kb:.0f} KiB decoded+analysed"))
        sub = make_clip(Path(tmp) / "sub360.mp4", None, size="640:360", bitrate="768k")
        used, frames = naive(sub)
        rows.append(_row("naive VideoCapture.read() every frame (640x360 sub-stream)", used,
                         frames / FPS, f"{frames} frames decoded"))
        used, analysed, key_kb = pipeline(sub)
        rows.append(_row("sitroom keyframes only (640x360 sub-stream)", used, SECONDS,
                         f"{analysed} keyframes of {key_kb:.0f} KiB decoded+analysed"))
        real = clips.get("vtest", clips["testsrc2"])
        used, analysed, _ = pipeline(real, people=True)
        rows.append(_row("sitroom keyframes + HOG people (vtest)" if "vtest" in clips
                         else "sitroom keyframes + HOG people (testsrc2)", used, SECONDS,
                         "people detector on moving regions"))
        used, analysed = asyncio.run(_live(clips["testsrc2"], LIVE_CAMERAS, LIVE_SECONDS))
        rows.append(_row(f"sitroom live (testsrc2): {LIVE_CAMERAS} cameras in real time, "
                         "whole process",
                         used, LIVE_CAMERAS * LIVE_SECONDS,
                         f"{analysed} analyses in {LIVE_SECONDS:.0f} s "
                         f"(expected ~{LIVE_CAMERAS * LIVE_SECONDS:.0f})"))
    print("\n".join(rows))
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
