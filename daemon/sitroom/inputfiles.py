"""Finding the files a validated config reads, for `sitroom check-config`.

Fields typed `InputFile` (sitroom.config) carry a marker; this walks a source's validated
model, nested models and lists included, and says why each such file cannot be read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from sitroom.config import MUST_EXIST


def input_files(model: BaseModel, where: str = "") -> Iterator[tuple[str, Path]]:
    """Every `InputFile` value in a validated model, nested models and lists included."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name, None)
        label = f"{where}.{name}" if where else name
        marked = any(m is MUST_EXIST for m in field.metadata) or _marked(field.annotation)
        if marked and isinstance(value, Path):
            yield label, value
        else:
            yield from _nested(value, label)


def _marked(annotation: Any) -> bool:
    """True for `InputFile`, also inside `InputFile | None` (pydantic keeps it there)."""
    if any(m is MUST_EXIST for m in getattr(annotation, "__metadata__", ())):
        return True
    return any(_marked(arg) for arg in get_args(annotation))


def _nested(value: Any, where: str) -> Iterator[tuple[str, Path]]:
    if isinstance(value, BaseModel):
        yield from input_files(value, where)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _nested(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nested(item, f"{where}.{key}")


def unreadable(path: Path) -> str | None:
    """Why the daemon could not read `path`, or None when it can."""
    if not path.exists():
        return f"file not found: {path}"
    if not path.is_file():
        return f"not a regular file: {path}"
    if not os.access(path, os.R_OK):
        return f"not readable by this user: {path}"
    return None
