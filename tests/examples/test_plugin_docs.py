"""docs/plugins.md shows only code the test suite runs.

Its code blocks are included from the example plugin (docs/examples/sitroom-example-weather),
which tests/examples installs, tests and runs: a block preceded by
`<!-- include: PATH#REGION -->` must equal that region of the file (the lines between
`--8<-- [start:REGION]` and `--8<-- [end:REGION]` comments; the whole file without
`#REGION`). Python, TOML and YAML blocks without an include are refused, but for
`NOT_RUN_ALLOWED` marked `<!-- not-run: why -->`. After editing the
example, refresh the doc with `.venv/bin/python -m tests.examples.test_plugin_docs`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support import REPO

DOC = REPO / "docs" / "plugins.md"
CHECKED_LANGUAGES = {"python", "toml", "yaml"}
FENCE = re.compile(
    r"(?:<!-- include: (?P<ref>[^ ]+) -->\n|<!-- not-run: (?P<why>[^>]+) -->\n)?"
    r"```(?P<lang>[a-z]*)\n(?P<body>.*?)^```$",
    re.S | re.M,
)
NOT_RUN_ALLOWED = 1  # the events sketch (section 6b): the example raises no events yet


@dataclass
class Block:
    ref: str | None
    lang: str
    body: str
    span: tuple[int, int]
    not_run: str | None = None


def blocks(text: str) -> list[Block]:
    return [Block(m["ref"], m["lang"], m["body"], m.span("body"), m["why"])
            for m in FENCE.finditer(text)]


def region(ref: str) -> str:
    path, _, name = ref.partition("#")
    text = (REPO / path).read_text(encoding="utf-8")
    if not name:
        return text
    marker = r"^[^\n]*--8<-- \[{}:" + re.escape(name) + r"\][^\n]*\n"
    match = re.search(marker.format("start") + "(.*?)" + marker.format("end"), text, re.S | re.M)
    if match is None:
        raise LookupError(f"{path} has no region {name!r}")
    return match[1]


def refreshed(text: str) -> str:
    for block in reversed(blocks(text)):
        if block.ref:
            start, end = block.span
            text = text[:start] + region(block.ref) + text[end:]
    return text


def test_every_included_block_matches_its_source() -> None:
    text = DOC.read_text(encoding="utf-8")
    stale = [b.ref for b in blocks(text) if b.ref and b.body != region(b.ref)]
    assert stale == [], "run `.venv/bin/python -m tests.examples.test_plugin_docs`"


def test_no_code_outside_the_example() -> None:
    code = [b for b in blocks(DOC.read_text()) if b.lang in CHECKED_LANGUAGES and not b.ref]
    assert [b.body[:60] for b in code if not b.not_run] == []
    assert len(code) <= NOT_RUN_ALLOWED, "code that does not run is marked and kept rare"


def test_the_doc_includes_the_example_throughout() -> None:
    refs = [b.ref for b in blocks(DOC.read_text()) if b.ref]
    files = {ref.partition("#")[0] for ref in refs}
    assert len(refs) >= 10
    assert {"pyproject.toml", "tests/conftest.py", "tests/test_weather.py"} <= {
        f.removeprefix("docs/examples/sitroom-example-weather/") for f in files}


def test_a_missing_region_is_an_error(tmp_path: Path) -> None:
    try:
        region("docs/examples/sitroom-example-weather/pyproject.toml#nowhere")
    except LookupError as exc:
        assert "nowhere" in str(exc)
    else:
        raise AssertionError("no error for a missing region")


def test_a_changed_block_is_caught() -> None:
    text = DOC.read_text()
    index, block = next((i, b) for i, b in enumerate(blocks(text)) if b.ref)
    start, _ = block.span
    edited = text[:start] + "# edited\n" + text[start:]
    assert blocks(edited)[index].body != region(block.ref or "")
    assert refreshed(edited) == text


if __name__ == "__main__":
    DOC.write_text(refreshed(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
