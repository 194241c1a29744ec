"""Object detectors behind the motion stage: YOLOv3-tiny (default), an operator's ONNX, or HOG.

The analysis runs a detector only on frames where something moved or differs from the
reference scene (Frigate's design: an empty or still street costs nothing). YOLO sees the
whole picture at `input_width` (aspect kept), so the cost follows that width, not the
camera's resolution; HOG searches the moving regions only (its cost is per window).

One network per worker thread: `cv2.dnn.Net.forward` is not thread-safe, and loading
YOLOv3-tiny (34 MB) once per thread is cheaper than a lock across the pool.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from sitroom_cameras import models, people

Box = tuple[int, int, int, int]  # x, y, w, h
VEHICLES = ("bicycle", "car", "motorcycle", "bus", "truck")
DEFAULT_CLASSES = ("person", *VEHICLES)
ALIASES = {"motorbike": "motorcycle"}  # Darknet's coco.names spells it the VOC way
STRIDE = 32  # YOLO input sides are multiples of the network's stride


@dataclass(frozen=True)
class Detection:
    cls: str
    score: float
    box: Box  # in the coordinates of the image given to `detect`


class Detector(Protocol):
    classes: tuple[str, ...]

    def detect(self, image: np.ndarray, rois: list[Box] | None) -> list[Detection]:
        """Objects in `image` (grey or BGR); `rois` limits the search (None: everywhere)."""
        ...


def read_class_names(path: Path) -> list[str]:
    """One class name per line, in the network's output order (aliases normalised)."""
    names = [line.strip() for line in path.read_text().splitlines()]
    return [ALIASES.get(n, n) for n in names if n]


def nms(found: list[Detection], threshold: float) -> list[Detection]:
    """Per-class non-maximum suppression."""
    kept: list[Detection] = []
    for cls in sorted({d.cls for d in found}):
        group = [d for d in found if d.cls == cls]
        keep = cv2.dnn.NMSBoxes([list(d.box) for d in group], [d.score for d in group], 0.0,
                                threshold)
        kept += [group[int(i)] for i in np.ravel(keep)]
    return kept


class DnnDetector:
    """A YOLO-family network through OpenCV's DNN module (Darknet or ONNX)."""

    def __init__(self, kind: str, files: tuple[Path, ...], names: list[str],
                 classes: tuple[str, ...], input_width: int, confidence: float,
                 class_confidence: dict[str, float], nms_threshold: float) -> None:
        self.kind = kind
        self.files = files
        self.names = names
        self.classes = classes
        self.input_width = input_width
        self.confidence = confidence
        self.thresholds = {c: class_confidence.get(c, confidence) for c in classes}
        self.floor = min(self.thresholds.values(), default=confidence)
        self.nms_threshold = nms_threshold
        self.wanted = np.array([i for i, n in enumerate(names) if n in classes], dtype=np.int64)
        self._local = threading.local()
        self._net()  # fail now (in the caller's thread) rather than on the first frame

    def _net(self) -> cv2.dnn.Net:
        net = getattr(self._local, "net", None)
        if net is None:
            if self.kind == "darknet":
                net = cv2.dnn.readNetFromDarknet(str(self.files[0]), str(self.files[1]))
            else:
                net = cv2.dnn.readNetFromONNX(str(self.files[0]))
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
            self._local.net = net
            self._local.outputs = net.getUnconnectedOutLayersNames()
        return net

    def detect(self, image: np.ndarray, rois: list[Box] | None) -> list[Detection]:
        """One pass over the whole picture whenever anything moved; `rois` only decide
        whether to run (the caller skips frames without motion).

        Cutting the moving regions out and passing them one by one was measured slower on
        vtest (112 ms per frame against 86 ms for whole frames): OpenCV's DNN re-plans every
        layer whenever the input shape changes, which costs more than the pixels saved. One
        fixed input shape per camera keeps the network's buffers between frames.
        """
        height, width = image.shape[:2]
        scale = self.input_width / width
        found = self._detect_region(image, (0, 0), scale)
        return nms(found, self.nms_threshold)

    def _detect_region(self, crop: np.ndarray, origin: tuple[int, int], scale: float
                       ) -> list[Detection]:
        h, w = crop.shape[:2]
        in_w = max(STRIDE * 2, int(np.ceil(w * scale / STRIDE)) * STRIDE)
        in_h = max(STRIDE * 2, int(np.ceil(h * scale / STRIDE)) * STRIDE)
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        blob = cv2.dnn.blobFromImage(crop, 1 / 255.0, (in_w, in_h), swapRB=True, crop=False)
        net = self._net()
        net.setInput(blob)
        outputs = net.forward(self._local.outputs)
        rows = self._rows(outputs, in_w, in_h)
        if rows.size == 0:
            return []
        scores = rows[:, 4:][:, self.wanted]
        best = scores.argmax(axis=1)
        conf = scores[np.arange(len(rows)), best]
        keep = conf >= self.floor
        found = []
        ox, oy = origin
        for row, k, c in zip(rows[keep], best[keep], conf[keep], strict=True):
            cls = self.names[int(self.wanted[k])]
            if c < self.thresholds[cls]:
                continue
            cx, cy, bw, bh = (float(v) for v in row[:4])
            box = (round((cx - bw / 2) * w) + ox, round((cy - bh / 2) * h) + oy,
                   round(bw * w), round(bh * h))
            found.append(Detection(cls, float(c), box))
        return found

    def _rows(self, outputs: tuple[np.ndarray, ...], in_w: int, in_h: int) -> np.ndarray:
        """(N, 4 + classes) rows: centre x, y, width, height as shares of the input, then
        one score per class (objectness folded in)."""
        if self.kind == "darknet":
            # OpenCV's region layer: cx, cy, w, h (shares), objectness, class x objectness
            rows = np.concatenate([o.reshape(-1, o.shape[-1]) for o in outputs])
            return np.hstack([rows[:, :4], rows[:, 5:]])
        out = outputs[0]
        out = out.reshape(out.shape[-2], out.shape[-1]) if out.ndim == 3 else out
        n_cls = len(self.names)
        if out.shape[0] in (4 + n_cls, 5 + n_cls) and out.shape[1] not in (4 + n_cls, 5 + n_cls):
            out = out.T  # YOLOv8 layout: (4 + classes, N)
        if out.shape[1] == 5 + n_cls:  # YOLOv5 layout: objectness, then class probabilities
            out = np.hstack([out[:, :4], out[:, 5:] * out[:, 4:5]])
        if out.shape[1] != 4 + n_cls:
            raise ValueError(f"ONNX output of shape {out.shape} does not fit {n_cls} classes")
        out = out.astype(np.float32, copy=True)
        if out[:, :4].max(initial=0.0) > 2.0:  # pixels of the input, not shares
            out[:, [0, 2]] /= in_w
            out[:, [1, 3]] /= in_h
        return out


class HogDetector:
    """People only, with today's HOG counter (people.py); kept for comparison and for
    cameras where the network's cost is too high."""

    classes: tuple[str, ...] = ("person",)

    def __init__(self, input_width: int) -> None:
        self.input_width = input_width

    def detect(self, image: np.ndarray, rois: list[Box] | None) -> list[Detection]:
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        scale = self.input_width / image.shape[1]
        view = cv2.resize(image, (self.input_width, max(1, round(image.shape[0] * scale))))
        boxes = None
        if rois is not None:
            boxes = [(int(x * scale), int(y * scale), int(w * scale), int(h * scale))
                     for x, y, w, h in rois]
            boxes = [b for b in boxes if b[2] >= people.WINDOW[0] and b[3] >= people.WINDOW[1]]
        return self._boxes(people.detect(view, boxes), scale)

    def detect_masked(self, image: np.ndarray, mask: np.ndarray) -> list[Detection]:
        """Today's counter exactly: HOG on people.regions() around a small foreground mask."""
        scale = self.input_width / image.shape[1]
        view = cv2.resize(image, (self.input_width, max(1, round(image.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        rois = people.regions(mask, view.shape[1] / mask.shape[1], (view.shape[1], view.shape[0]))
        return self._boxes(people.detect(view, rois), scale) if rois else []

    @staticmethod
    def _boxes(found: list[Box], scale: float) -> list[Detection]:
        return [Detection("person", 1.0, (round(x / scale), round(y / scale), round(w / scale),
                                          round(h / scale))) for x, y, w, h in found]


def build(spec: str, classes: tuple[str, ...], input_width: int, confidence: float,
          class_confidence: dict[str, float], nms_threshold: float,
          classes_file: Path | None = None) -> Detector:
    """The detector a camera's config names; raises ModelMissing / ValueError clearly."""
    if spec == "hog":
        return HogDetector(input_width)
    files: tuple[Path, ...]
    if spec == "yolov3-tiny":
        directory = models.locate()
        files = (directory / "yolov3-tiny.cfg", directory / "yolov3-tiny.weights")
        names = read_class_names(directory / "coco.names")
        kind = "darknet"
    elif spec.startswith("onnx:"):
        path = Path(spec.removeprefix("onnx:"))
        if not path.is_file():
            raise ValueError(f"ONNX model {path} does not exist")
        if classes_file is None or not classes_file.is_file():
            raise ValueError("an ONNX detector needs classes_file (one class name per line)")
        files, names, kind = (path,), read_class_names(classes_file), "onnx"
    else:
        raise ValueError(f"unknown detector {spec!r}")
    return DnnDetector(kind, files, names, classes, input_width, confidence, class_confidence,
                       nms_threshold)
