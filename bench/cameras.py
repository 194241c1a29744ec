"""Cameras per CPU core at 1 analysed frame/s: sitroom's pipeline vs the naive OpenCV loop.

Streams: 1080p H.264, 25 fps, GOP 1 s (25 frames), made with ffmpeg into a temp dir, from
real footage (OpenCV's vtest, upscaled from the clip shipped in sitroom_cameras/media), and
ffmpeg's testsrc2 (a detailed synthetic picture).

Measured in one run, CPU time (all threads) per second of video:
- naive: `cv2.VideoCapture.read()` every frame (decode + BGR conversion of all 25 frames/s),
  analysing one frame a second with the same Analyzer;
- sitroom pipeline: demux every packet, decode only keyframes (1 per second) as the camera
  source does, analyse each with the same Analyzer. Steady state, like a camera connected
  for hours: the clip is opened once (its open cost is printed apart) and played several
  times over, as the file feed loops it; the median of three runs, with the split into
  decoding, analysis and demuxing (thread CPU time);
- sitroom live: N cameras through the real CameraSource (reader threads, event loop,
  worker pool of 2) for a fixed wall time, CPU of the whole process split by thread:
  file cameras played in real time, and (when GStreamer's RTSP server is installed) RTSP
  cameras over TCP from a real RTSP server (its own CPU is not counted), read by sitroom's
  own RTSP client and, as the baseline, by FFmpeg's.
cameras per core = video seconds per CPU second. People detection (HOG) is off in the main
figures and measured separately: it costs far more than decoding when people are in view.

    .venv/bin/python -m bench cameras          (about 3.5 minutes on 2 cores)
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import av
import cv2

SECONDS = 12
FPS = 25
LOOPS = 4  # plays of the clip per pipeline run (48 camera-seconds)
RUNS = 3
LIVE_CAMERAS = 20
LIVE_SECONDS = 15.0
ROOT = Path(__file__).resolve().parent.parent
VTEST = ROOT / "plugins" / "sitroom_cameras" / "media" / "vtest.mp4"
RTSP_SERVER = ROOT / "tests" / "cameras" / "rtsp_server.py"
GST_PYTHON = "/usr/bin/python3"  # Debian's python3-gi with GstRtspServer


def make_clip(out: Path, source: Path | None, size: str = "1920:1080",
              bitrate: str = "4M", seconds: int = SECONDS) -> Path:
    """A camera-like H.264 stream: main profile, constant ~bitrate (a typical 1080p CCTV
    main stream runs at 4 Mbit/s), a keyframe every second and no scene-cut keyframes."""
    ffmpeg = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
    if source is not None:
        inputs = ["-stream_loop", "-1", "-i", str(source)]
    else:
        inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size.replace(':', 'x')}:rate={FPS}"]
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", *inputs, "-t", str(seconds), "-vf",
         f"scale={size},fps={FPS}", "-c:v", "libx264", "-preset", "veryfast",
         "-profile:v", "main", "-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0",
         "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate, "-pix_fmt", "yuv420p",
         "-an", str(out)],
        check=True,
    )
    return out


def _config(path: Path, name: str = "bench", people: bool = False,  # type: ignore[no-untyped-def]
            detector: str = "hog", **analysis: object):
    from sitroom_cameras.config import CameraConfig

    return CameraConfig.model_validate({
        "kind": "camera", "name": name, "path": str(path),
        "analysis": {"people": people, "detector": detector, **analysis},
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


class Split:
    """Thread CPU time of one pipeline run, by stage."""

    def __init__(self) -> None:
        self.decode = self.analyse = self.total = 0.0
        self.seconds = 0
        self.key_bytes = 0

    @property
    def demux(self) -> float:
        return self.total - self.decode - self.analyse

    def ms(self, value: float) -> float:
        if not self.seconds:
            raise RuntimeError("no keyframe decoded: is the clip H.264 with keyframes?")
        return 1000 * value / self.seconds


def pipeline(path: Path, people: bool = False, loops: int = LOOPS, detector: str = "hog",
             **analysis: object) -> tuple[Split, float]:
    """What a camera source does per second of video: demux all, decode keyframes only.

    Returns the steady-state split and, apart, the CPU seconds opening the clip took."""
    from sitroom_cameras.analysis import Analyzer
    from sitroom_cameras.decode import VideoDecoder
    from sitroom_cameras.feed import FeedStats

    analyzer = Analyzer(_config(path, people=people, detector=detector, **analysis))
    if people:
        analyzer.detector()  # loading the network is a one-off, not per camera-second
    clock = time.thread_time
    opened = clock()
    container = av.open(str(path))
    stream = container.streams.video[0]
    ctx = stream.codec_context
    decoder = VideoDecoder(ctx.name, bytes(ctx.extradata or b""), (ctx.width, ctx.height))
    open_cost = clock() - opened
    stats, split = FeedStats(), Split()
    time_base = float(stream.time_base)
    start = clock()
    for _ in range(loops):
        for packet in container.demux(stream):
            if not packet.size:
                continue
            key = bool(packet.is_keyframe)
            stats.frame(key, packet.pts * time_base if packet.pts is not None else None)
            if not key:
                continue
            split.key_bytes += packet.size
            t0 = clock()
            decoded = decoder.decode([packet], keyframes=True)
            t1 = clock()
            split.decode += t1 - t0
            if decoded.grey is not None:
                analyzer.analyse(decoded.grey, decoded.full_size, split.seconds)
                split.analyse += clock() - t1
                split.seconds += 1
        container.seek(0)
    split.total = clock() - start
    container.close()
    return split, open_cost


def pipeline_rows(label: str, path: Path) -> list[str]:
    """The median of RUNS pipeline runs, as a table row, and its split."""
    runs = sorted((pipeline(path) for _ in range(RUNS)), key=lambda r: r[0].ms(r[0].total))
    split, open_cost = runs[len(runs) // 2]
    spread = ", ".join(f"{s.ms(s.total):.1f}" for s, _ in runs)
    note = (f"{split.key_bytes / split.seconds / 1024:.0f} KiB keyframes; decode "
            f"{split.ms(split.decode):.1f} + analysis {split.ms(split.analyse):.1f} + demux "
            f"{split.ms(split.demux):.1f} ms; runs {spread} ms; opening the stream "
            f"{1000 * open_cost:.0f} ms once")
    return [_row(label, split.total, split.seconds, note)]


def _thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each thread of this process, with its Python thread name."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float]] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "other")
        role = ("readers" if name.startswith("camera-reader") else
                "event loop" if name == "MainThread" else
                "decode+analysis" if name.startswith("ThreadPoolExecutor") else "other")
        out[int(tid)] = (role, (int(fields[11]) + int(fields[12])) / tick)
    return out


async def _live(source: dict[str, object], cameras: int, seconds: float, warm_up: float = 3.0
                ) -> tuple[float, int, Counter[str]]:
    """CPU of the whole process, analyses done and CPU by thread role while `cameras` live
    cameras of `source` run for `seconds` (after `warm_up`), as the daemon would run them."""
    from concurrent.futures import ThreadPoolExecutor

    import sitroom_cameras as plugin
    from sitroom.testing import SourceHarness

    harnesses = [SourceHarness.from_plugin(plugin, {
        "kind": "camera", "name": f"cam{i}", **source, "analysis": {"people": False}})
        for i in range(cameras)]
    pool = ThreadPoolExecutor(max_workers=2)
    for h in harnesses:
        h.ctx._executor = pool  # one bounded pool for all cameras, as in the daemon
        h.start()
    await asyncio.sleep(warm_up)  # connect and warm up

    def analysed() -> float:
        return sum(h.value("sitroom_camera_frames_analysed_total", camera=h.ctx.name) or 0
                   for h in harnesses)

    start, before, threads = cpu(), analysed(), _thread_cpu()
    await asyncio.sleep(seconds)
    used, after, threads_after = cpu() - start, analysed(), _thread_cpu()
    for h in harnesses:
        await h.__aexit__(None, None, None)
    pool.shutdown(wait=False)
    by_role: Counter[str] = Counter()
    for tid, (role, spent) in threads_after.items():
        by_role[role] += spent - threads.get(tid, (role, 0.0))[1]
    return used, int(after - before), by_role


def live_row(label: str, source: dict[str, str]) -> str:
    used, analysed, by_role = asyncio.run(_live(source, LIVE_CAMERAS, LIVE_SECONDS))
    camera_seconds = LIVE_CAMERAS * LIVE_SECONDS
    split = " + ".join(f"{role} {1000 * by_role[role] / camera_seconds:.1f}"
                       for role in ("decode+analysis", "readers", "event loop") if role in by_role)
    return _row(f"{label}: {LIVE_CAMERAS} cameras in real time, whole process", used,
                camera_seconds, f"{split} ms; {analysed} of {camera_seconds:.0f} analyses "
                f"in {LIVE_SECONDS:.0f} s")


class RtspServer:
    """GStreamer's RTSP server (tests/cameras/rtsp_server.py) on a free loopback port."""

    def __init__(self, clip: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen([GST_PYTHON, str(RTSP_SERVER), str(self.port), str(clip)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if "READY" not in line:
            self.close()
            raise RuntimeError(f"RTSP server did not start: {line.strip()}")

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)

    @staticmethod
    def available() -> bool:
        probe = subprocess.run([GST_PYTHON, "-c", "import gi; gi.require_version("
                                "'GstRtspServer', '1.0'); from gi.repository import "
                                "GstRtspServer"], capture_output=True, check=False)
        return probe.returncode == 0


def _row(label: str, cpu_seconds: float, video_seconds: float, note: str = "") -> str:
    per_core = video_seconds / cpu_seconds if cpu_seconds else float("inf")
    ms = 1000 * cpu_seconds / video_seconds
    return f"| {label} | {ms:.1f} ms | {per_core:.0f} | {note} |"


DETECTOR_ROWS: tuple[tuple[str, dict[str, object], str], ...] = (
    ("hog", {}, "HOG people (today's counter)"),
    ("yolov3-tiny", {"runtime": "opencv"},
     "YOLOv3-tiny on OpenCV's DNN, whole picture (the previous default)"),
    ("yolov3-tiny", {}, "YOLOv3-tiny on ONNX Runtime, float32, moving regions (default)"),
    ("yolov3-tiny", {"precision": "int8"}, "YOLOv3-tiny on ONNX Runtime, int8, moving regions"),
    ("hog", {}, "HOG people (today's counter), again"),
)


def detector_rows(clip: Path, loops: int = 2) -> list[str]:
    """Detection on (motion-gated, 1 analysed frame/s): YOLOv3-tiny on each runtime beside
    today's HOG, one after the other in the same run, on real footage where people walk all
    the time."""
    rows = []
    for detector, analysis, label in DETECTOR_ROWS:
        split, _ = pipeline(clip, people=True, loops=loops, detector=detector, **analysis)
        rows.append(_row(f"sitroom keyframes + {label} ({clip.stem})", split.total,
                         split.seconds, f"decode {split.ms(split.decode):.1f} + analysis and "
                         f"detection {split.ms(split.analyse):.1f} ms"))
    return rows


def detectors_only() -> None:
    """`python -m bench.cameras detectors`: only the detector rows (about a minute)."""
    cv2.setNumThreads(1)
    print(f"load before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-cameras-") as tmp:
        clip = make_clip(Path(tmp) / "vtest.mp4", VTEST)
        sub = make_clip(Path(tmp) / "vtest-sub360.mp4", VTEST, size="640:360", bitrate="768k")
        rows = ["| pipeline | CPU per camera-second | cameras per core | note |",
                "|---|---|---|---|", *detector_rows(clip), *detector_rows(sub)]
    print("\n".join(rows))
    print(f"load after: {os.getloadavg()}")


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
        clips = {"testsrc2": make_clip(Path(tmp) / "testsrc2.mp4", None),
                 "vtest": make_clip(Path(tmp) / "vtest.mp4", VTEST)}
        for name, clip in clips.items():
            used, frames = naive(clip)
            rows.append(_row(f"naive VideoCapture.read() every frame ({name})", used,
                             frames / FPS, f"{frames} frames decoded"))
            rows += pipeline_rows(f"sitroom keyframes only ({name})", clip)
        sub = make_clip(Path(tmp) / "sub360.mp4", None, size="640:360", bitrate="768k")
        used, frames = naive(sub)
        rows.append(_row("naive VideoCapture.read() every frame (640x360 sub-stream)", used,
                         frames / FPS, f"{frames} frames decoded"))
        rows += pipeline_rows("sitroom keyframes only (640x360 sub-stream)", sub)
        rows += detector_rows(clips["vtest"])
        rows.append(live_row("sitroom live, file cameras (testsrc2)",
                             {"path": str(clips["testsrc2"])}))
        if RtspServer.available():
            long_clip = make_clip(Path(tmp) / "rtsp.mp4", None,
                                  seconds=int(LIVE_SECONDS) + 10)
            server = RtspServer(long_clip)
            try:
                for client in ("native", "ffmpeg"):
                    rows.append(live_row(f"sitroom live, RTSP/TCP cameras read by {client} "
                                         "(testsrc2)", {"url": server.url,
                                                        "transport": "rtsp_tcp",
                                                        "rtsp_client": client}))
            finally:
                server.close()
        else:
            print("GStreamer's RTSP server is not installed: no RTSP row", file=sys.stderr)
    print("\n".join(rows))
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    detectors_only() if sys.argv[1:] == ["detectors"] else main()
