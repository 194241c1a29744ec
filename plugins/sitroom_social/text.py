"""Turning a post into comparable tokens: strip HTML, fold case, undo chat spelling.

Social text is written fast: "BANJIIIR di jln kaligawe, gk bs lewat". Every later stage
(topics, districts, sentiment) compares tokens, so they must agree on one normal form; that
is why this module is the only place that knows about spelling, and everything else calls
`tokens()`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from importlib import resources

import yaml

_TAG = re.compile(r"<[^>]{0,2000}>")
_BLOCK_TAG = re.compile(r"<\s*(br|/p|p|/div|li|/li)\b[^>]{0,2000}>", re.IGNORECASE)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"(?<!\w)@[\w.@-]+")
_WORD = re.compile(r"[a-z0-9]+")
_RUN3 = re.compile(r"([a-z])\1{2,}")
_REDUP = re.compile(r"^([a-z]{2,})2$")
MAX_TEXT_CHARS = 5000
"""Posts are cut here: a 1 MB "post" must not cost a second of regex time."""


def strip_html(markup: str) -> str:
    """Plain text from a post's HTML (Mastodon `content`, RSS `summary`)."""
    text = _SCRIPT.sub(" ", markup[: MAX_TEXT_CHARS * 4])
    text = _BLOCK_TAG.sub(" ", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return " ".join(text.split())[:MAX_TEXT_CHARS]


@lru_cache(maxsize=1)
def slang_map() -> dict[str, tuple[str, ...]]:
    """Abbreviation/slang/Javanese spelling -> standard token(s), from data/slang.yaml."""
    raw = yaml.safe_load(resources.files("sitroom_social").joinpath("data/slang.yaml").read_text())
    return {str(k).lower(): tuple(str(v).lower().split()) for k, v in raw.items()}


_KNOWN: set[str] = set()


def register_vocabulary(words: set[str] | frozenset[str]) -> None:
    """Words the run-collapser should prefer ("banjiiir" -> "banjir", not "banjiir")."""
    _KNOWN.update(words)


def _collapse(word: str) -> str:
    """Undo letter stretching: runs of 3+ letters become the known form (1 or 2 letters)."""
    if not _RUN3.search(word):
        return word
    one = _RUN3.sub(r"\1", word)
    two = _RUN3.sub(r"\1\1", word)
    if two in _KNOWN and one not in _KNOWN:
        return two
    return one


def normalise_word(word: str) -> tuple[str, ...]:
    """One raw lower-case word -> its standard token(s)."""
    word = _collapse(word)
    match = _REDUP.match(word)
    if match:  # "hati2" -> "hati hati" (hyphens split words already: "sampah-sampah")
        base = match.group(1)
        return (*normalise_word(base), *normalise_word(base))
    mapped = slang_map().get(word)
    if mapped is not None:
        return mapped
    return (word,)


def fold(text: str) -> str:
    """Lower-case, strip accents, drop URLs and @handles (never matched, never kept)."""
    text = unicodedata.normalize("NFKD", text[:MAX_TEXT_CHARS])
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return text.lower().replace("#", " ")


def tokens(text: str) -> list[str]:
    """The normal form every matcher works on: a list of standard lower-case tokens."""
    out: list[str] = []
    for word in _WORD.findall(fold(text)):
        out.extend(normalise_word(word))
    return out
