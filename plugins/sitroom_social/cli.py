"""`sitroom social classify`: what the daemon would make of a text, one JSON line per input.

For checking a phrase list before deploying it, for explaining a count to an operator, and
for labelling sessions. It builds the same `TextPipeline` a social source builds, from the
shipped topics or from one source of a config directory (its `topics`, `custom_topics` and
`extra_places`), so its answer is the daemon's answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from sitroom.api import ConfigError, sources_of_kind
from sitroom_social.config import SocialSourceConfig, WebhookConfig
from sitroom_social.pipeline import TextPipeline

SOCIAL_KINDS = ("rss", "mastodon", "social_webhook")
MAX_LINE_CHARS = 1_000_000


class CliError(Exception):
    pass


def source_config(config_dir: Path | None, source: str | None) -> SocialSourceConfig:
    """One social source's config, or the defaults (all shipped topics) when none is named."""
    if source is None:
        return WebhookConfig(name="cli")
    directory = config_dir or Path("conf.d")
    social: dict[str, SocialSourceConfig] = {}
    try:
        for kind in SOCIAL_KINDS:
            social.update(sources_of_kind(directory, kind).sources)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if source not in social:
        raise CliError(f"no social source named {source!r} in {directory} "
                       f"(found: {', '.join(sorted(social)) or 'none'})")
    return social[source]


def parse_line(line: str) -> tuple[str, bool]:
    """(text, html) from a plain line or a JSON object with `text` (and optional `html`)."""
    if len(line) > MAX_LINE_CHARS:
        raise ValueError(f"line longer than {MAX_LINE_CHARS} characters")
    if not line.lstrip().startswith("{"):
        return line, False
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise ValueError('a JSON line needs a string field "text"')
    return obj["text"], bool(obj.get("html", False))


def classify_lines(pipeline: TextPipeline, lines: Iterable[str]) -> Iterator[dict[str, object]]:
    """One result per non-blank input line; a bad line gives an `error` result, not a stop."""
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            text, html = parse_line(line)
        except ValueError as exc:
            yield {"line": number, "error": str(exc)}
            continue
        yield pipeline.analyse(text, html).as_json()


def cmd_classify(args: argparse.Namespace, stdin: TextIO | None = None,
                 stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    try:
        config = source_config(Path(args.config_dir) if args.config_dir else None, args.source)
    except CliError as exc:
        print(f"sitroom social classify: {exc}", file=sys.stderr)
        return 2
    pipeline = TextPipeline(config)
    failed = 0
    for result in classify_lines(pipeline, stdin):
        failed += "error" in result
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    if failed:
        print(f"sitroom social classify: {failed} line(s) not understood", file=sys.stderr)
    return 1 if failed else 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    social = subparsers.add_parser("social", help="social feed tools")
    sub = social.add_subparsers(dest="social_command", required=True)
    classify = sub.add_parser(
        "classify",
        help="read texts on stdin (one per line, or JSON lines with \"text\"), print one "
             'JSON line each: {"topics", "districts", "sentiment", "polarity"}',
        description="What the daemon would make of each text: the same normalisation, topic "
                    "matching, district and sentiment as a social source. Bad lines give "
                    '{"line": N, "error": ...} and exit code 1; the rest are still classified.',
    )
    classify.add_argument("--config-dir", help="config directory (with --source)")
    classify.add_argument("--source", help="use this social source's topics and places")
    classify.set_defaults(func=cmd_classify)
