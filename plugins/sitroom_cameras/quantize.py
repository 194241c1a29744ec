"""The int8 form of the converted detector (`precision: int8`), made at install time.

ONNX Runtime's static quantisation (8-bit weights per output channel, 8-bit activations)
halves the float model's cost again (~16 ms against ~33 ms a 480x288 pass on the reference
core) and loses some recall: bench/RESULTS.md has the figures on the labelled clips. The
activation ranges are calibrated on frames of the shipped street clip, grey as the cameras
see them, at the default input width: that clip is the development footage; the held-out
clip never is.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

CALIBRATION_FRAMES = 20
CALIBRATION_EVERY = 40  # frames apart in the clip (4 s at 10 fps)
CALIBRATION_WIDTH = 480


def calibration_blobs(clip: Path, count: int = CALIBRATION_FRAMES,
                      every: int = CALIBRATION_EVERY,
                      width: int = CALIBRATION_WIDTH) -> Iterator[np.ndarray]:
    """Network inputs from the clip, prepared exactly as the detector prepares a frame."""
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % every:
                continue
            grey = frame.to_ndarray(format="gray")
            height = int(np.ceil(grey.shape[0] * width / grey.shape[1] / 32) * 32)
            bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
            yield cv2.dnn.blobFromImage(bgr, 1 / 255.0, (width, height), swapRB=True)
            count -= 1
            if count == 0:
                return


def quantize(source: Path, target: Path, clip: Path) -> Path:
    """Write the int8 model of `source` (a float ONNX model) to `target`, atomically."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self.blobs = calibration_blobs(clip)

        def get_next(self) -> dict[str, np.ndarray] | None:
            blob = next(self.blobs, None)
            return None if blob is None else {"input": blob}

    partial = target.with_name(target.name + ".part")
    with tempfile.TemporaryDirectory(prefix="sitroom-quantize-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(partial), Frames(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)
    partial.replace(target)
    return target
