"""Darknet YOLO models as ONNX for ONNX Runtime: the graph built from `.cfg` + `.weights`,
and the YOLO heads decoded in numpy.

Why: OpenCV's DNN module reads the Darknet files directly but runs YOLOv3-tiny at ~70 ms a
480x288 pass on one core of the reference machine; ONNX Runtime runs the same weights in
~33 ms (float) and ~16 ms (8-bit, `quantize`), which is what lets one core carry 20+
detecting cameras. The conversion is exact arithmetic (batch norm folded into the
convolutions) and runs once, at install time (`python -m sitroom_cameras.models fetch`);
the daemon never needs the `onnx` package, only the `.onnx` file and the anchors.

Only the layers of the YOLOv3-tiny family are supported (convolutional with batch norm and
leaky/linear activation, maxpool, route, upsample, yolo); anything else is a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

LEAKY_SLOPE = 0.1
BN_EPSILON = 1e-5  # Darknet's batch-norm epsilon (normalize_cpu)
OPSET = 13


@dataclass(frozen=True)
class YoloHead:
    """One output scale: its anchors (input pixels, width and height) in output order."""

    anchors: tuple[tuple[float, float], ...]


def parse_cfg(text: str) -> list[dict[str, str]]:
    """Sections in order, each a dict with its `type` ("net", "convolutional", ...)."""
    sections: list[dict[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            sections.append({"type": line.strip("[]").strip()})
        elif "=" in line and sections:
            key, value = line.split("=", 1)
            sections[-1][key.strip()] = value.strip()
        else:
            raise ValueError(f"Darknet cfg line {number} is neither a [section] nor key=value")
    if not sections or sections[0]["type"] not in ("net", "network"):
        raise ValueError("Darknet cfg must start with a [net] section")
    return sections


def heads(cfg_text: str) -> list[YoloHead]:
    """The YOLO heads of a cfg, in the order of the network's outputs."""
    found = []
    for section in parse_cfg(cfg_text)[1:]:
        if section["type"] == "yolo":
            pairs = [float(v) for v in section["anchors"].split(",")]
            anchors = [(pairs[2 * i], pairs[2 * i + 1]) for i in range(len(pairs) // 2)]
            mask = [int(v) for v in section["mask"].split(",")]
            found.append(YoloHead(tuple(anchors[i] for i in mask)))
    return found


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float32)


def decode(outputs: list[np.ndarray], yolo_heads: list[YoloHead], in_w: int, in_h: int,
           wanted: np.ndarray) -> np.ndarray:
    """Rows (N, 4 + len(wanted)): centre x, y, width, height as shares of the input, then the
    wanted classes' scores (class probability times objectness), as OpenCV's region layer
    gives them. Only the wanted classes' sigmoids are computed: 6 of COCO's 80."""
    rows = []
    for out, head in zip(outputs, yolo_heads, strict=True):
        _, channels, grid_h, grid_w = out.shape
        per_anchor = channels // len(head.anchors)
        cells = out[0].reshape(len(head.anchors), per_anchor, grid_h, grid_w)
        cells = cells.transpose(2, 3, 0, 1)  # h, w, anchor, values (OpenCV's row order)
        gy, gx = np.mgrid[0:grid_h, 0:grid_w].astype(np.float32)
        anchor_w = np.array([a[0] for a in head.anchors], dtype=np.float32) / in_w
        anchor_h = np.array([a[1] for a in head.anchors], dtype=np.float32) / in_h
        x = (_sigmoid(cells[..., 0]) + gx[..., None]) / grid_w
        y = (_sigmoid(cells[..., 1]) + gy[..., None]) / grid_h
        w = np.exp(cells[..., 2]) * anchor_w
        h = np.exp(cells[..., 3]) * anchor_h
        objectness = _sigmoid(cells[..., 4])
        scores = _sigmoid(cells[..., 5 + wanted]) * objectness[..., None]
        rows.append(np.concatenate([np.stack([x, y, w, h], axis=-1), scores], axis=-1)
                    .reshape(-1, 4 + len(wanted)))
    return np.concatenate(rows) if rows else np.zeros((0, 4 + len(wanted)), np.float32)


def to_onnx(cfg_text: str, weights: bytes) -> Any:
    """The ONNX model (an `onnx.ModelProto`) computing the raw YOLO head tensors, with a
    dynamic input (N, 3, H, W): any multiple of 32 runs without rebuilding anything."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    sections = parse_cfg(cfg_text)
    major, minor = (int(v) for v in np.frombuffer(weights, dtype=np.int32, count=2))
    offset = 12 + (8 if major * 10 + minor >= 2 else 4)  # header: version, images seen
    values = np.frombuffer(weights, dtype=np.float32, offset=offset)
    position = 0

    def take(count: int) -> np.ndarray:
        nonlocal position
        if position + count > values.size:
            raise ValueError("Darknet weights end before the cfg's layers do")
        chunk = values[position:position + count]
        position += count
        return chunk

    nodes, initializers, outputs = [], [], []
    names: list[str] = []
    channels: list[int] = []
    previous, depth = "input", 3
    for index, layer in enumerate(sections[1:]):
        kind, name = layer["type"], f"layer{index}"
        if kind == "convolutional":
            filters, size = int(layer["filters"]), int(layer["size"])
            stride = int(layer.get("stride", 1))
            pad = size // 2 if int(layer.get("pad", 0)) else 0
            if layer.get("groups", "1") != "1":
                raise ValueError(f"layer {index}: grouped convolutions are not supported")
            if int(layer.get("batch_normalize", 0)):
                beta, gamma, mean, var = (take(filters) for _ in range(4))
                if (var < 0).any() or not np.isfinite(var).all():
                    raise ValueError(f"layer {index}: batch-norm variance below zero or not "
                                     "a number: not a trained Darknet weights file")
                kernel = take(filters * depth * size * size).reshape(filters, depth, size, size)
                factor = gamma / np.sqrt(var + BN_EPSILON)
                kernel = kernel * factor[:, None, None, None]
                bias = beta - mean * factor
            else:
                bias = take(filters)
                kernel = take(filters * depth * size * size).reshape(filters, depth, size, size)
            initializers += [numpy_helper.from_array(kernel.astype(np.float32), f"w{index}"),
                             numpy_helper.from_array(bias.astype(np.float32), f"b{index}")]
            activation = layer.get("activation", "linear")
            if activation not in ("leaky", "linear"):
                raise ValueError(f"layer {index}: activation {activation!r} is not supported")
            conv_out = name if activation == "linear" else f"{name}.conv"
            nodes.append(helper.make_node(
                "Conv", [previous, f"w{index}", f"b{index}"], [conv_out],
                kernel_shape=[size, size], strides=[stride, stride], pads=[pad] * 4))
            if activation == "leaky":
                nodes.append(helper.make_node("LeakyRelu", [conv_out], [name],
                                              alpha=LEAKY_SLOPE))
            depth = filters
        elif kind == "maxpool":
            size, stride = int(layer["size"]), int(layer["stride"])
            # Darknet pads size - 1 on the right and bottom: same size at stride 1
            pads = [0, 0, size - 1, size - 1] if stride == 1 else [0, 0, 0, 0]
            nodes.append(helper.make_node("MaxPool", [previous], [name],
                                          kernel_shape=[size, size], strides=[stride, stride],
                                          pads=pads))
        elif kind == "route":
            sources = [int(v) for v in layer["layers"].split(",")]
            sources = [s if s >= 0 else index + s for s in sources]
            if any(not 0 <= s < index for s in sources):
                raise ValueError(f"layer {index}: route to a layer that does not exist")
            if len(sources) == 1:
                nodes.append(helper.make_node("Identity", [names[sources[0]]], [name]))
            else:
                nodes.append(helper.make_node("Concat", [names[s] for s in sources], [name],
                                              axis=1))
            depth = sum(channels[s] for s in sources)
        elif kind == "upsample":
            scale = float(layer["stride"])
            initializers.append(numpy_helper.from_array(
                np.array([1, 1, scale, scale], dtype=np.float32), f"scale{index}"))
            nodes.append(helper.make_node("Resize", [previous, "", f"scale{index}"], [name],
                                          mode="nearest"))
        elif kind == "yolo":
            name = previous  # the head's raw tensor is the output; decode() does the rest
            outputs.append(previous)
        else:
            raise ValueError(f"layer {index}: Darknet layer [{kind}] is not supported")
        names.append(name)
        channels.append(depth)
        previous = name
    if position != values.size:
        raise ValueError(f"Darknet weights hold {values.size - position} values the cfg does "
                         "not use: cfg and weights do not belong together")
    graph = helper.make_graph(
        nodes, "darknet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["n", None, None, None])
         for o in outputs],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def convert(cfg: Path, weights: Path, target: Path) -> Path:
    """Write the ONNX model of a Darknet cfg + weights to `target` (atomically)."""
    import onnx

    model = to_onnx(cfg.read_text(), weights.read_bytes())
    partial = target.with_name(target.name + ".part")
    onnx.save(model, str(partial))
    partial.replace(target)
    return target
