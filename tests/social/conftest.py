"""Shared material for the social plugin's tests: real sentences, real Mastodon answers,
feeds built from them, and a loopback aiohttp server per test (free port, xdist-safe)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml
from aiohttp import web

from tests.support import TEST_DATA

LABELS = TEST_DATA / "social" / "topics_tuning.tsv"
CASSETTES = TEST_DATA / "mastodon"


@dataclass(frozen=True)
class Sentence:
    index: int
    topics: frozenset[str]
    text: str


def sentences() -> list[Sentence]:
    """The news sentences of the tuning part, hand-labelled (tests/data/social/README.md)."""
    out = []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        ident, _pool, topics, text = line.split("\t", 3)
        if not ident.startswith("nlpid:"):
            continue  # the news sentences only (the part's few social comments are not news)
        labels = frozenset() if topics == "-" else frozenset(topics.split(","))
        out.append(Sentence(int(ident.split(":")[1]), labels, text))
    return out


def with_topic(topic: str) -> list[Sentence]:
    return [s for s in sentences() if topic in s.topics]


def without_topics() -> list[Sentence]:
    return [s for s in sentences() if not s.topics]


def rss_feed(items: list[Sentence], prefix: str = "item") -> bytes:
    """An RSS 2.0 document whose items are real sentences (title = first words)."""
    body = []
    for i, s in enumerate(items):
        title = " ".join(s.text.split()[:8])
        body.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>http://127.0.0.1/berita/{prefix}-{s.index}</link>"
            f"<guid>{prefix}-{s.index}</guid>"
            f"<pubDate>{formatdate(1_700_000_000 + i * 60, usegmt=True)}</pubDate>"
            f"<description>&lt;p&gt;{escape(escape(s.text))}&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Berita</title><link>http://127.0.0.1/</link><description>uji</description>"
        + "".join(body) + "</channel></rss>"
    ).encode()


def atom_feed(items: list[Sentence]) -> bytes:
    entries = "".join(
        f"<entry><id>urn:berita:{s.index}</id><title>Berita {s.index}</title>"
        f"<updated>2026-11-29T10:{i % 60:02d}:00Z</updated>"
        f'<link href="http://127.0.0.1/a/{s.index}"/>'
        f'<summary type="html">{escape(s.text)}</summary></entry>'
        for i, s in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Kabar</title><id>urn:kabar</id><updated>2026-11-29T10:00:00Z</updated>"
        + entries + "</feed>"
    ).encode()


def cassette(name: str) -> list[dict[str, Any]]:
    """Interactions of a recorded Mastodon.py VCR cassette (real server answers, MIT; see
    tests/data/mastodon/README.md)."""
    path = CASSETTES / name
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"])


def recorded(name: str, method: str, path_prefix: str) -> tuple[Any, dict[str, str]]:
    """(decoded JSON body, single-valued headers) of the first matching recorded answer."""
    for interaction in cassette(name):
        request = interaction["request"]
        if request["method"] == method and path_prefix in request["uri"]:
            response = interaction["response"]
            headers = {k: v[0] for k, v in response["headers"].items()}
            return json.loads(response["body"]["string"]), headers
    raise LookupError(f"{name}: no {method} {path_prefix}")


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on a free 127.0.0.1 port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def write_token(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "token"
    path.write_text(value + "\n")
    return path
