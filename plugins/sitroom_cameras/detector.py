"""Object detectors behind the motion stage: YOLOv3-tiny (default), an operator's ONNX, or HOG.

The analysis runs a detector only on frames where something moved or differs from the
reference scene (Frigate's design: an empty or still street costs nothing), and YOLO looks
only at the regions that moved, cut out at `input_width` scale (`DnnDetector.regions`), so
its cost follows what moves, not the camera's resolution. HOG searches the moving regions
only (its cost is per window).

Networks run on ONNX Runtime by default (one shared session per model file, one thread per
run) or on OpenCV's DNN module (`runtime: opencv`, one `cv2.dnn.Net` per worker thread).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from sitroom_cameras import darknet, models, people
from sitroom_cameras.boxes import Box, merge_boxes

VEHICLES = ("bicycle", "car", "motorcycle", "bus", "truck")
DEFAULT_CLASSES = ("person", *VEHICLES)
ALIASES = {"motorbike": "motorcycle"}  # Darknet's coco.names spells it the VOC way
STRIDE = 32  # YOLO input sides are multiples of the network's stride
MIN_CROP = 128  # network pixels: smaller regions are grown (context for the network)
CUT_SHARE = 0.6  # regions covering more of the picture than this: one whole-picture pass


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


class OpenCvNetwork:
    """A network through OpenCV's DNN module: one `cv2.dnn.Net` per worker thread, since
    `Net.forward` is not thread-safe. Kept for operators without ONNX Runtime and as the
    reference the ONNX conversion is tested against."""

    def __init__(self, kind: str, files: tuple[Path, ...]) -> None:
        self.kind = kind
        self.files = files
        self._local = threading.local()
        try:
            self._net()  # fail now (in the caller's thread) rather than on the first frame
        except cv2.error as exc:
            raise ValueError(f"model {files[0]} cannot be loaded by OpenCV: {exc}") from exc

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

    def run(self, blob: np.ndarray) -> list[np.ndarray]:
        net = self._net()
        net.setInput(blob)
        return list(net.forward(self._local.outputs))


_SESSIONS: dict[Path, object] = {}
_SESSIONS_LOCK = threading.Lock()


class OrtNetwork:
    """A network through ONNX Runtime: one session per model file for the whole process.

    `InferenceSession.run` is thread-safe, so every camera and worker thread shares it (a
    hundred cameras hold the weights once, not a hundred times), and each run uses one
    thread: the daemon's parallelism is its worker pool, one camera per core at a time.
    """

    def __init__(self, path: Path) -> None:
        with _SESSIONS_LOCK:
            session = _SESSIONS.get(path)
            if session is None:
                try:
                    import onnxruntime
                except ImportError as exc:
                    raise models.ModelMissing(
                        "ONNX Runtime is not installed: pip install 'sitroom[cameras]', or set "
                        "the camera's analysis.runtime to opencv") from exc
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                options.log_severity_level = 3  # warnings about unused initialisers: noise
                try:
                    session = onnxruntime.InferenceSession(
                        str(path), options, providers=["CPUExecutionProvider"])
                except Exception as exc:  # ONNX Runtime raises its own error classes
                    raise ValueError(f"ONNX model {path} cannot be loaded: {exc}") from exc
                _SESSIONS[path] = session
        self.session = session
        self.input = session.get_inputs()[0].name  # type: ignore[attr-defined]

    def run(self, blob: np.ndarray) -> list[np.ndarray]:
        return list(self.session.run(None, {self.input: blob}))  # type: ignore[attr-defined]


class Network(Protocol):
    def run(self, blob: np.ndarray) -> list[np.ndarray]:
        """The network's raw outputs for one (1, 3, H, W) float blob."""
        ...


class DnnDetector:
    """A YOLO-family network: Darknet's YOLOv3-tiny (converted to ONNX at install time) or
    an operator's ONNX export, run by ONNX Runtime (default) or OpenCV's DNN module."""

    def __init__(self, kind: str, network: Network, names: list[str],
                 classes: tuple[str, ...], input_width: int, confidence: float,
                 class_confidence: dict[str, float], nms_threshold: float,
                 yolo_heads: list[darknet.YoloHead] | None = None) -> None:
        self.kind = kind  # "darknet": OpenCV's region rows; "darknet-heads": raw heads; "onnx"
        self.network = network
        self.names = names
        self.classes = classes
        self.input_width = input_width
        self.confidence = confidence
        self.thresholds = {c: class_confidence.get(c, confidence) for c in classes}
        self.floor = min(self.thresholds.values(), default=confidence)
        self.nms_threshold = nms_threshold
        self.wanted = np.array([i for i, n in enumerate(names) if n in classes], dtype=np.int64)
        self.yolo_heads = yolo_heads
        self.cut_regions = isinstance(network, OrtNetwork)

    def detect(self, image: np.ndarray, rois: list[Box] | None) -> list[Detection]:
        """One pass per region of `regions()` (each cut out as it is), or over the whole
        picture when `rois` is None."""
        height, width = image.shape[:2]
        scale = self.input_width / width
        if rois is None:
            found = self._detect_region(image, (0, 0), scale)
        else:
            found = []
            for x, y, w, h in rois:
                found += self._detect_region(image[y:y + h, x:x + w], (x, y), scale)
        return nms(found, self.nms_threshold)

    def regions(self, rois: list[Box] | None, size: tuple[int, int]) -> list[Box] | None:
        """Where to look, given what moved (None: the whole picture).

        With ONNX Runtime a pass costs in proportion to its pixels (about 1 ms fixed), so
        only what moved is paid for: on vtest the moving regions cover 40 % of the picture.
        OpenCV's DNN re-plans every layer whenever the input shape changes (measured slower
        cut up: 112 ms per frame against 86 ms whole), so it always gets the whole picture.
        """
        if not self.cut_regions:
            return None
        return self.crops(rois, size, self.input_width / size[0])

    @staticmethod
    def crops(rois: list[Box] | None, size: tuple[int, int], scale: float
              ) -> list[Box] | None:
        """Regions grown to whole network cells (multiples of 32 at the network's scale, at
        least MIN_CROP) so no crop is stretched, merged where they overlap; None when they
        would cover more than CUT_SHARE of the picture (one whole pass is then cheaper)."""
        if not rois:
            return None
        width, height = size
        cell = STRIDE / scale  # one network cell in image pixels

        def snap(box: Box) -> Box:
            x, y, w, h = box
            gw = min(width, max(MIN_CROP / scale, np.ceil(w / cell) * cell))
            gh = min(height, max(MIN_CROP / scale, np.ceil(h / cell) * cell))
            gx = min(max(0.0, x + w / 2 - gw / 2), width - gw)
            gy = min(max(0.0, y + h / 2 - gh / 2), height - gh)
            return int(gx), int(gy), int(gw), int(gh)

        merged = [snap(box) for box in merge_boxes([snap(box) for box in rois])]
        if sum(w * h for _, _, w, h in merged) > CUT_SHARE * width * height:
            return None
        return merged

    def _detect_region(self, crop: np.ndarray, origin: tuple[int, int], scale: float
                       ) -> list[Detection]:
        h, w = crop.shape[:2]
        in_w = max(STRIDE * 2, int(np.ceil(w * scale / STRIDE)) * STRIDE)
        in_h = max(STRIDE * 2, int(np.ceil(h * scale / STRIDE)) * STRIDE)
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        blob = cv2.dnn.blobFromImage(crop, 1 / 255.0, (in_w, in_h), swapRB=True, crop=False)
        rows = self._rows(self.network.run(blob), in_w, in_h)
        if rows.size == 0:
            return []
        scores = rows[:, 4:]
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

    def _rows(self, outputs: list[np.ndarray], in_w: int, in_h: int) -> np.ndarray:
        """(N, 4 + wanted classes) rows: centre x, y, width, height as shares of the input,
        then one score per wanted class (objectness folded in)."""
        if self.kind == "darknet-heads":
            assert self.yolo_heads is not None
            return darknet.decode(outputs, self.yolo_heads, in_w, in_h, self.wanted)
        if self.kind == "darknet":
            # OpenCV's region layer: cx, cy, w, h (shares), objectness, class x objectness
            rows = np.concatenate([o.reshape(-1, o.shape[-1]) for o in outputs])
            return np.hstack([rows[:, :4], rows[:, 5:][:, self.wanted]])
        out = outputs[0]
        out = out.reshape(out.shape[-2], out.shape[-1]) if out.ndim == 3 else out
        n_cls = len(self.names)
        if out.shape[0] in (4 + n_cls, 5 + n_cls) and out.shape[1] not in (4 + n_cls, 5 + n_cls):
            out = out.T  # YOLOv8 layout: (4 + classes, N)
        if out.shape[1] == 5 + n_cls:  # YOLOv5 layout: objectness, then class probabilities
            out = np.hstack([out[:, :4], out[:, 5:] * out[:, 4:5]])
        if out.shape[1] != 4 + n_cls:
            raise ValueError(f"ONNX output of shape {out.shape} does not fit {n_cls} classes")
        out = np.hstack([out[:, :4], out[:, 4:][:, self.wanted]]).astype(np.float32)
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
          classes_file: Path | None = None, runtime: str = "onnxruntime",
          precision: str = "float32") -> Detector:
    """The detector a camera's config names; raises ModelMissing / ValueError clearly."""
    if spec == "hog":
        return HogDetector(input_width)
    network: Network
    heads = None
    if spec == "yolov3-tiny":
        directory = models.locate()
        names = read_class_names(directory / "coco.names")
        cfg = directory / "yolov3-tiny.cfg"
        if runtime == "opencv":
            kind = "darknet"
            network = OpenCvNetwork(kind, (cfg, directory / "yolov3-tiny.weights"))
        else:
            kind = "darknet-heads"
            network = OrtNetwork(models.onnx_model(directory, precision))
            heads = darknet.heads(cfg.read_text())
    elif spec.startswith("onnx:"):
        path = Path(spec.removeprefix("onnx:"))
        if not path.is_file():
            raise ValueError(f"ONNX model {path} does not exist")
        if classes_file is None or not classes_file.is_file():
            raise ValueError("an ONNX detector needs classes_file (one class name per line)")
        names, kind = read_class_names(classes_file), "onnx"
        network = OpenCvNetwork(kind, (path,)) if runtime == "opencv" else OrtNetwork(path)
    else:
        raise ValueError(f"unknown detector {spec!r}")
    return DnnDetector(kind, network, names, classes, input_width, confidence, class_confidence,
                       nms_threshold, heads)
