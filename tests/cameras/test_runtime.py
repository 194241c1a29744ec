"""The detector's runtimes: YOLOv3-tiny converted to ONNX must compute what OpenCV's Darknet
reader computes, the moving regions it is given must be whole network cells, and a broken
cfg, weights file or derived model must fail with a reason, not a wrong answer.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from sitroom_cameras import darknet, models
from sitroom_cameras import detector as det
from sitroom_cameras.cli import frames
from sitroom_cameras.config import CameraConfig

FULL = (768, 576)


@pytest.fixture(scope="module")
def street(vtest: Path) -> np.ndarray:
    """One grey frame of the real street clip with people in it (10 s in)."""
    for _, t, grey in frames(vtest, 1.0):
        if t >= 10:
            return cv2.resize(grey, FULL)
    raise AssertionError("the clip is shorter than 10 s")


def blob(grey: np.ndarray, width: int = 480, height: int = 352) -> np.ndarray:
    return cv2.dnn.blobFromImage(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), 1 / 255.0,
                                 (width, height), swapRB=True)


def test_the_onnx_model_computes_what_opencv_reads_from_the_darknet_files(street) -> None:  # type: ignore[no-untyped-def]
    directory = models.locate()
    cfg = directory / "yolov3-tiny.cfg"
    names = det.read_class_names(directory / "coco.names")
    wanted = np.array([names.index(c) for c in det.DEFAULT_CLASSES])
    reference = det.OpenCvNetwork("darknet", (cfg, directory / "yolov3-tiny.weights"))
    converted = det.OrtNetwork(models.onnx_model(directory))
    image = blob(street)
    rows = np.concatenate([o.reshape(-1, o.shape[-1]) for o in reference.run(image)])
    ours = darknet.decode(converted.run(image), darknet.heads(cfg.read_text()), 480, 352,
                          wanted)
    assert ours.shape == (len(rows), 4 + len(wanted))
    np.testing.assert_allclose(ours[:, :4], rows[:, :4], atol=1e-3)
    scores = rows[:, 5:][:, wanted]
    shown = scores > 0  # OpenCV zeroes scores under its region layer's 0.2
    assert shown.sum() >= 5  # the frame has people in it: the comparison is not vacuous
    np.testing.assert_allclose(ours[:, 4:][shown], scores[shown], atol=1e-3)
    assert (ours[:, 4:][~shown] < 0.2 + 1e-3).all()


def test_both_runtimes_find_the_same_objects(street) -> None:  # type: ignore[no-untyped-def]
    found = {}
    for runtime in ("opencv", "onnxruntime"):
        detector = det.build("yolov3-tiny", det.DEFAULT_CLASSES, 480, 0.25, {}, 0.45,
                             runtime=runtime)
        found[runtime] = sorted((d.cls, d.box) for d in detector.detect(street, None))
    assert len(found["opencv"]) >= 4
    assert [c for c, _ in found["opencv"]] == [c for c, _ in found["onnxruntime"]]
    for (_, a), (_, b) in zip(found["opencv"], found["onnxruntime"], strict=True):
        assert max(abs(u - v) for u, v in zip(a, b, strict=True)) <= 1


def test_int8_finds_about_what_float_finds(street) -> None:  # type: ignore[no-untyped-def]
    people = {}
    for precision in ("float32", "int8"):
        detector = det.build("yolov3-tiny", ("person",), 480, 0.2, {}, 0.45,
                             precision=precision)
        people[precision] = len(detector.detect(street, None))
    assert people["float32"] >= 4
    assert abs(people["int8"] - people["float32"]) <= 2, people


def test_every_camera_shares_one_session_per_model() -> None:
    a = det.build("yolov3-tiny", det.DEFAULT_CLASSES, 480, 0.2, {}, 0.45)
    b = det.build("yolov3-tiny", ("person",), 320, 0.3, {}, 0.45)
    assert isinstance(a, det.DnnDetector) and isinstance(b, det.DnnDetector)
    assert isinstance(a.network, det.OrtNetwork) and isinstance(b.network, det.OrtNetwork)
    assert a.network.session is b.network.session


def test_regions_are_whole_network_cells_inside_the_picture() -> None:
    detector = det.build("yolov3-tiny", det.DEFAULT_CLASSES, 480, 0.2, {}, 0.45)
    assert isinstance(detector, det.DnnDetector)
    size = (480, 352)  # the picture already at the network's scale: one cell is 32 px
    assert detector.regions(None, size) is None
    # a person-sized region grows to MIN_CROP, centred on it, within the picture
    [(x, y, w, h)] = detector.regions([(200, 100, 30, 70)], size) or []
    assert (w, h) == (det.MIN_CROP, det.MIN_CROP)
    assert x <= 200 and x + w >= 230 and y <= 100 and y + h >= 170
    # at the edge it is shifted inside, never cut
    [(x, y, w, h)] = detector.regions([(470, 340, 10, 12)], size) or []
    assert (x + w, y + h) == size and (w, h) == (det.MIN_CROP, det.MIN_CROP)
    # a larger region is rounded up to whole cells
    [(_, _, w, h)] = detector.regions([(10, 10, 170, 100)], size) or []
    assert w % det.STRIDE == 0 and h % det.STRIDE == 0 and w >= 170 and h >= 100
    # overlapping regions become one; far-apart ones stay apart
    assert len(detector.regions([(10, 10, 40, 40), (60, 20, 40, 40)], size) or []) == 1
    assert len(detector.regions([(0, 0, 40, 40), (400, 300, 40, 40)], size) or []) == 2
    # regions covering most of the picture: one whole-picture pass instead
    assert detector.regions([(0, 0, 430, 320)], size) is None


def test_opencv_runtime_always_looks_at_the_whole_picture() -> None:
    detector = det.build("yolov3-tiny", det.DEFAULT_CLASSES, 480, 0.2, {}, 0.45,
                         runtime="opencv")
    assert isinstance(detector, det.DnnDetector)
    assert detector.regions([(200, 100, 30, 70)], (480, 352)) is None


def test_a_region_pass_finds_the_person_a_whole_pass_finds(street) -> None:  # type: ignore[no-untyped-def]
    detector = det.build("yolov3-tiny", ("person",), 480, 0.3, {}, 0.45)
    assert isinstance(detector, det.DnnDetector)
    image = cv2.resize(street, (480, 360))
    whole = detector.detect(image, None)
    assert whole
    target = max(whole, key=lambda d: d.score)
    regions = detector.regions([target.box], (480, 360))
    assert regions is not None and len(regions) == 1
    cut = detector.detect(image, regions)
    x, y, w, h = target.box
    centres = [(d.box[0] + d.box[2] / 2, d.box[1] + d.box[3] / 2) for d in cut]
    assert any(x <= cx <= x + w and y <= cy <= y + h for cx, cy in centres), (target, cut)


# -- a broken model: a clear reason ------------------------------------------------------------


TINY_CFG = """[net]
width=64
height=64
channels=3

[convolutional]
batch_normalize=1
filters=4
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
filters=6
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=0
anchors=10,14
classes=1
"""


def tiny_weights(values: int) -> bytes:
    """A weights file of `values` floats; -1: the right count with a negative variance."""
    rng = np.random.default_rng(7)
    header = struct.pack("<iiiq", 0, 2, 0, 0)
    if values == -1:
        floats = rng.uniform(0.1, 1.0, TINY_VALUES).astype(np.float32)
        floats[13] = -0.5  # conv 1's second variance (beta, gamma, mean, var: 4 each)
        return header + floats.tobytes()
    return header + rng.uniform(0.1, 1.0, values).astype(np.float32).tobytes()


# conv 1: 4 x (beta, gamma, mean, var) + 4*3*3*3 weights; conv 2: 6 biases + 6*4 weights
TINY_VALUES = 4 * 4 + 4 * 3 * 3 * 3 + 6 + 6 * 4


def test_a_small_network_converts_and_runs(tmp_path: Path) -> None:
    """Every value of the weights file is used once; the model loads and runs at any size."""
    (tmp_path / "tiny.cfg").write_text(TINY_CFG)
    (tmp_path / "tiny.weights").write_bytes(tiny_weights(TINY_VALUES))
    onnx_path = darknet.convert(tmp_path / "tiny.cfg", tmp_path / "tiny.weights",
                                tmp_path / "tiny.onnx")
    assert not (tmp_path / "tiny.onnx.part").exists()
    network = det.OrtNetwork(onnx_path)
    for side in (64, 96):
        [head] = network.run(np.zeros((1, 3, side, side), np.float32))
        assert head.shape == (1, 6, side // 2, side // 2)


@pytest.mark.parametrize(("cfg", "values", "message"), [
    (TINY_CFG.replace("[net]", "[netz]"), TINY_VALUES, "must start with a \\[net\\]"),
    (TINY_CFG + "\n[shortcut]\nfrom=-2\n", TINY_VALUES, "\\[shortcut\\] is not supported"),
    (TINY_CFG.replace("activation=leaky", "activation=mish"), TINY_VALUES, "mish"),
    (TINY_CFG + "\nnot a key value line\n", TINY_VALUES, "neither a \\[section\\]"),
    (TINY_CFG + "\n[route]\nlayers=-9\n", TINY_VALUES, "route to a layer that does not exist"),
    (TINY_CFG, TINY_VALUES - 1, "end before"),
    (TINY_CFG, -1, "variance"),
    (TINY_CFG, TINY_VALUES + 5, "do not belong together"),
])
def test_a_broken_darknet_model_is_refused_with_its_reason(cfg: str, values: int,
                                                           message: str) -> None:
    with pytest.raises(ValueError, match=message):
        darknet.to_onnx(cfg, tiny_weights(values))


def test_a_missing_onnx_form_names_the_command_that_makes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / models.YOLOV3_TINY
    directory.mkdir()
    source = models.locate()
    for name in models.FILES:
        (directory / name).symlink_to(source / name)
    monkeypatch.setenv("SITROOM_MODEL_DIR", str(tmp_path))
    with pytest.raises(models.ModelMissing, match="make models"):
        det.build("yolov3-tiny", det.DEFAULT_CLASSES, 480, 0.2, {}, 0.45)
    with pytest.raises(ValidationError, match=r"yolov3-tiny\.int8\.onnx"):
        CameraConfig.model_validate({"kind": "camera", "name": "c", "path": "/dev/null",
                                     "analysis": {"precision": "int8"}})
    # OpenCV reads the Darknet files themselves: no derived file needed
    CameraConfig.model_validate({"kind": "camera", "name": "c", "path": "/dev/null",
                                 "analysis": {"runtime": "opencv"}})
    assert det.build("yolov3-tiny", det.DEFAULT_CLASSES, 480, 0.2, {}, 0.45, runtime="opencv")


@pytest.mark.parametrize(("analysis", "message"), [
    ({"runtime": "tensorrt"}, "onnxruntime"),
    ({"precision": "fp16"}, "int8"),
])
def test_an_unknown_runtime_or_precision_is_refused(analysis: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError, match=message):
        CameraConfig.model_validate({"kind": "camera", "name": "c", "path": "/dev/null",
                                     "analysis": analysis})
