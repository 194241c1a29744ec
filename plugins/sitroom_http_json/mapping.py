"""Turn one decoded JSON document into samples, item by item.

A field that is missing or of the wrong type costs that one item, never the poll: a traffic
API that omits the speed of one closed segment must not blank the other forty. Problems are
returned as countable reasons (`missing`, `type`, `label`, `too_many_items`, `duplicate`)
per metric, never with payload text, since payloads are not ours to log.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sitroom_http_json import jsonpath
from sitroom_http_json.config import MetricMapping

LabelSet = tuple[tuple[str, str], ...]


class ItemError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class CompiledMapping:
    """A mapping with its paths parsed once."""

    mapping: MetricMapping
    path: jsonpath.JsonPath
    value: jsonpath.JsonPath | None
    labels: tuple[tuple[str, jsonpath.JsonPath], ...]

    @classmethod
    def compile(cls, mapping: MetricMapping) -> CompiledMapping:
        return cls(
            mapping,
            jsonpath.parse(mapping.path),
            jsonpath.parse(mapping.value) if mapping.value is not None else None,
            tuple((name, jsonpath.parse(path)) for name, path in mapping.labels.items()),
        )


@dataclass
class MappedMetric:
    samples: dict[LabelSet, float] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)


def _one(path: jsonpath.JsonPath, item: Any) -> Any:
    found = path.find(item)
    if not found:
        raise ItemError("missing")
    if len(found) > 1:
        raise ItemError("type")  # a wildcard inside an item must reach exactly one value
    return found[0]


def to_number(raw: Any, mapping: MetricMapping) -> float:
    """JSON number, boolean, numeric string, or a text value listed in `value_map`."""
    if isinstance(raw, bool):
        number = 1.0 if raw else 0.0
    elif isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        if raw in mapping.value_map:
            number = mapping.value_map[raw]
        elif raw.strip().lower() in mapping.value_map:
            number = mapping.value_map[raw.strip().lower()]
        else:
            try:
                number = float(raw.strip())
            except ValueError:
                raise ItemError("type") from None
    elif raw is None:
        raise ItemError("missing")  # JSON null: the API has no value for this item now
    else:
        raise ItemError("type")
    if not math.isfinite(number):
        raise ItemError("type")
    return number * mapping.scale + mapping.offset


def to_label(raw: Any, max_length: int) -> str:
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, int | float | str):
        text = str(raw)
    elif raw is None:
        raise ItemError("missing")
    else:
        raise ItemError("type")
    if not text or len(text) > max_length:
        raise ItemError("label")
    return text


def apply(compiled: CompiledMapping, document: Any, max_label_length: int) -> MappedMetric:
    """Samples of one metric family from one document, plus per-reason error counts."""
    result = MappedMetric()
    mapping = compiled.mapping
    items = compiled.path.find(document)
    if not items:
        result.errors["missing"] += 1
        return result
    if len(items) > mapping.max_items:
        result.errors["too_many_items"] += len(items) - mapping.max_items
        items = items[: mapping.max_items]
    for item in items:
        try:
            labels = tuple(
                (name, to_label(_one(path, item), max_label_length))
                for name, path in compiled.labels
            )
            if mapping.type == "info":
                value = 1.0
            else:
                raw = _one(compiled.value, item) if compiled.value is not None else item
                value = to_number(raw, mapping)
        except ItemError as exc:
            result.errors[exc.reason] += 1
            continue
        if labels in result.samples:
            result.errors["duplicate"] += 1
        result.samples[labels] = value
    return result
