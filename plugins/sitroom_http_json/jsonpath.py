"""A deliberately small JSONPath subset: enough to reach values in real APIs, no more.

Grammar (absolute paths start with `$`, paths relative to an item do not):

    $.segments[*].speed_kmh     key steps, any element of a list
    $.data[0]['nama paket']     list index, quoted key (spaces, dots, dashes)
    $.stations.*                any value of an object
    location.district           relative to the current item
    @ or $                      the current item / the document itself

No filters, slices or recursive descent: those make a config hard to review and their cost
hard to bound. Parsing happens once, at config load, so a typo is a config error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r"\[(['\"])(.*?)\1\]")

WILDCARD = object()


@dataclass(frozen=True)
class JsonPath:
    text: str
    steps: tuple[str | int | object, ...]
    absolute: bool
    multi: bool = False
    """True when the path may reach several values (contains a wildcard)."""

    def find(self, data: Any) -> list[Any]:
        """Every value the path reaches in `data` (empty when nothing matches)."""
        if self.multi:
            return list(_walk(data, self.steps, 0))
        node = data  # the common case, a plain key/index chain: no generators
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    return []
            elif not isinstance(node, dict) or step not in node:
                return []
            node = node[step]
        return [node]


def _walk(node: Any, steps: tuple[Any, ...], position: int) -> Iterator[Any]:
    if position == len(steps):
        yield node
        return
    step = steps[position]
    if step is WILDCARD:
        if isinstance(node, list):
            children: list[Any] = node
        elif isinstance(node, dict):
            children = list(node.values())
        else:
            return
        for child in children:
            yield from _walk(child, steps, position + 1)
    elif isinstance(step, int):
        if isinstance(node, list) and -len(node) <= step < len(node):
            yield from _walk(node[step], steps, position + 1)
    elif isinstance(node, dict) and step in node:
        yield from _walk(node[step], steps, position + 1)


def parse(text: str) -> JsonPath:
    """Parse a path, raising ValueError that points at the offending character."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("path must be a non-empty string")
    source = text.strip()
    position = 0
    absolute = False
    if source[0] in "$@":
        absolute = source[0] == "$"
        position = 1
    elif source[0] != "[":
        source = "." + source  # relative `a.b` reads as `.a.b`
    steps: list[str | int | object] = []
    while position < len(source):
        rest = source[position:]
        if rest.startswith(".*") or rest.startswith("[*]"):
            steps.append(WILDCARD)
            position += 2 if rest.startswith(".*") else 3
        elif rest.startswith("."):
            match = _KEY.match(source, position + 1)
            if match is None:
                raise ValueError(f"path {text!r}: expected a key after '.' at {position}")
            steps.append(match.group(0))
            position = match.end()
        elif match := _INDEX.match(source, position):
            steps.append(int(match.group(1)))
            position = match.end()
        elif match := _QUOTED.match(source, position):
            steps.append(match.group(2))
            position = match.end()
        else:
            raise ValueError(f"path {text!r}: unexpected {rest[:10]!r} at {position}")
    return JsonPath(text, tuple(steps), absolute, any(step is WILDCARD for step in steps))
