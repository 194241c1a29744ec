"""Which configured topics a post is about: keywords and phrases minus exclusions.

"banjir di Kaligawe" is a flood; "banjir diskon" and "kredit macet" are not. A topic is a
set of positive phrases (single keywords are one-word phrases), `near` rules for words that
belong together but are typed apart ("pohon besar di depan sekolah tumbang"), and
exclusions: a positive hit that overlaps an exclusion phrase does not count.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import Field

from sitroom.api import ConfigModel
from sitroom_social.phrases import PhraseIndex, Span, compile_phrase, overlaps
from sitroom_social.text import register_vocabulary

TOPIC_NAME = r"^[a-z][a-z0-9_]{0,31}$"


class NearRule(ConfigModel):
    """Any word of `a` and any word of `b` within `window` tokens of each other."""

    a: list[str] = Field(min_length=1)
    b: list[str] = Field(min_length=1)
    window: int = Field(default=4, ge=1, le=12)


class TopicSpec(ConfigModel):
    """One topic: what counts as a mention of it. Words in Indonesian or Javanese."""

    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    near: list[NearRule] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def default_topics() -> dict[str, TopicSpec]:
    """The shipped topic sets (data/topics.yaml)."""
    raw = yaml.safe_load(resources.files("sitroom_social").joinpath("data/topics.yaml").read_text())
    return {name: TopicSpec.model_validate(spec) for name, spec in raw["topics"].items()}


class TopicMatcher:
    """Compiled topics; `match(tokens)` returns the names of the topics a post is about."""

    def __init__(self, topics: dict[str, TopicSpec]) -> None:
        self.names = tuple(topics)
        self._positive = PhraseIndex()
        self._exclude: dict[str, PhraseIndex] = {}
        self._near: dict[str, list[tuple[frozenset[str], frozenset[str], int]]] = {}
        vocab: set[str] = set()
        for name, spec in topics.items():
            self._positive.add_all([*spec.keywords, *spec.phrases], name)
            if spec.exclude:
                index = PhraseIndex()
                index.add_all(spec.exclude, name)
                self._exclude[name] = index
                vocab |= index.vocabulary
            rules = []
            for rule in spec.near:
                a = frozenset(w for p in rule.a for w in compile_phrase(p))
                b = frozenset(w for p in rule.b for w in compile_phrase(p))
                rules.append((a, b, rule.window))
                vocab |= a | b
            self._near[name] = rules
        vocab |= self._positive.vocabulary
        register_vocabulary(vocab)

    def match(self, toks: list[str]) -> list[str]:
        hits: dict[str, list[Span]] = defaultdict(list)
        for hit in self._positive.find(toks):
            hits[hit.key].append((hit.start, hit.end))
        for name, rules in self._near.items():
            for a, b, window in rules:
                hits[name].extend(_near_spans(toks, a, b, window))
        matched = []
        for name in self.names:
            spans = hits.get(name)
            if not spans:
                continue
            index = self._exclude.get(name)
            if index is not None:
                excluded = [(h.start, h.end) for h in index.find(toks)]
                spans = [s for s in spans if not overlaps(s, excluded)]
            if spans:
                matched.append(name)
        return matched


def _near_spans(
    toks: list[str], a: frozenset[str], b: frozenset[str], window: int
) -> list[Span]:
    a_pos = [i for i, t in enumerate(toks) if t in a]
    if not a_pos:
        return []
    b_pos = [i for i, t in enumerate(toks) if t in b]
    return [
        (min(i, j), max(i, j) + 1)
        for i in a_pos
        for j in b_pos
        if i != j and abs(i - j) <= window
    ]
