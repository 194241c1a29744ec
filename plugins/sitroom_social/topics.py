"""Which configured topics a post is about: phrases in any word form, minus exclusions and
contexts that make the words mean something else.

"banjir di Kaligawe" and "rumah warga kebanjiran" are floods; "banjir diskon" and "kredit
macet" are not, nor is "kecelakaan" in a helmet advert or a film synopsis. A topic is:

* `keywords`/`phrases`: a word written as a root ("banjir", "roboh") matches every form of it
  (kebanjiran, robohnya, dirobohkan: see morph.py); a derived word ("kebakaran",
  "penembakan") matches itself with clitics and pasca- ("pascakebakaran", "kebakarannya");
  a word written `=word` matches only itself;
* `near` rules: a word of `a` within `window` tokens of a word of `b`;
* `exclude` phrases: a hit overlapping one does not count ("banjir diskon");
* `unless` contexts: the topic does not count in a post that also has one of these words or
  phrases (`@name` refers to a shared list under `contexts:` in topics.yaml: adverts,
  product reviews, fiction, sport).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import Field

from sitroom.api import ConfigModel
from sitroom_social import morph
from sitroom_social.phrases import PhraseIndex, Span, compile_phrase, overlaps
from sitroom_social.text import register_vocabulary

TOPIC_NAME = r"^[a-z][a-z0-9_]{0,31}$"
EXACT = "="
STEM = "~"
"""Prefix of a token's stem form, so that a root needle never meets a surface form by accident."""
TOKEN_CACHE_SIZE = 50_000
"""Distinct words whose forms each matcher remembers (the per-token cost of matching)."""
MIN_ROOT = 5
"""Shorter roots match as written (plus clitics): few derive, and their 3-letter tails are in
every other word, which would send every word through the stemmer."""


class NearRule(ConfigModel):
    """Any word of `a` and any word of `b` within `window` tokens of each other."""

    a: list[str] = Field(min_length=1)
    b: list[str] = Field(min_length=1)
    window: int = Field(default=4, ge=1, le=12)


class TopicSpec(ConfigModel):
    """One topic: what counts as a mention of it. Words in Indonesian or Javanese."""

    description: str = ""
    agency: str = ""
    keywords: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    near: list[NearRule] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def _shipped() -> dict[str, object]:
    text = resources.files("sitroom_social").joinpath("data/topics.yaml").read_text()
    return dict(yaml.safe_load(text))


@lru_cache(maxsize=1)
def default_topics() -> dict[str, TopicSpec]:
    """The shipped topic sets (data/topics.yaml)."""
    raw = _shipped()["topics"]
    assert isinstance(raw, dict)
    return {name: TopicSpec.model_validate(spec) for name, spec in raw.items()}


@lru_cache(maxsize=1)
def shipped_contexts() -> dict[str, list[str]]:
    """Named word lists topics refer to with `@name` in `unless`."""
    raw = _shipped().get("contexts") or {}
    assert isinstance(raw, dict)
    return {str(k): [str(p) for p in v] for k, v in raw.items()}


def expand_contexts(entries: Iterable[str], contexts: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for entry in entries:
        if entry.startswith("@"):
            if entry[1:] not in contexts:
                raise ValueError(f"unknown context {entry!r} (known: {', '.join(contexts)})")
            out.extend(contexts[entry[1:]])
        else:
            out.append(entry)
    return out


class TopicMatcher:
    """Compiled topics; `match(tokens)` returns the names of the topics a post is about.

    With `morphology=False` every word matches only its exact surface form and `unless` is
    ignored: that is the matcher before morphology, kept so the benchmark can compare.
    """

    def __init__(self, topics: dict[str, TopicSpec], morphology: bool = True,
                 contexts: dict[str, list[str]] | None = None) -> None:
        self.names = tuple(topics)
        self.morphology = morphology
        contexts = shipped_contexts() if contexts is None else contexts
        self._positive = PhraseIndex()
        self._exclude: dict[str, PhraseIndex] = {}
        self._unless: dict[str, PhraseIndex] = {}
        self._near: dict[str, list[_NearIndex]] = {}
        vocab: set[str] = set()
        for name, spec in topics.items():
            for phrase in (*spec.keywords, *spec.phrases):
                self._positive.add_words(self._needles(phrase), name)
            if spec.exclude:
                self._exclude[name] = self._index(spec.exclude, name)
            if spec.unless and morphology:
                self._unless[name] = self._index(expand_contexts(spec.unless, contexts), name)
            self._near[name] = [
                _NearIndex(self._index(rule.a, name), self._index(rule.b, name), rule.window)
                for rule in spec.near
            ]
        indexes = [self._positive, *self._exclude.values(), *self._unless.values()]
        for rules in self._near.values():
            indexes += [i for rule in rules for i in (rule.a, rule.b)]
        for index in indexes:
            vocab |= index.vocabulary
        register_vocabulary({w.lstrip(STEM) for w in vocab})
        self._may_stem = TailFilter({w[1:] for w in vocab if w.startswith(STEM)})
        self._forms = lru_cache(maxsize=TOKEN_CACHE_SIZE)(self._word_forms)

    def _index(self, phrases: Iterable[str], key: str) -> PhraseIndex:
        index = PhraseIndex()
        for phrase in phrases:
            index.add_words(self._needles(phrase), key)
        return index

    def _needles(self, phrase: str) -> tuple[str, ...]:
        """A phrase as the token forms it must meet: `~root` for a root word (any form of it),
        the word itself for a derived or `=`-marked word."""
        exact = [w.startswith(EXACT) for w in phrase.split()]
        words = compile_phrase(phrase.replace(EXACT, " "))
        if not self.morphology:
            return words
        if len(exact) != len(words):  # normalisation split or joined words: no exact marks
            exact = [False] * len(words)
        return tuple(
            w if is_exact or len(w) < MIN_ROOT or morph.stem(w) != w else STEM + w
            for w, is_exact in zip(words, exact, strict=True)
        )

    def token_forms(self, toks: list[str]) -> list[frozenset[str]]:
        if not self.morphology:
            return [frozenset((t,)) for t in toks]
        forms = self._forms
        return [forms(tok) for tok in toks]

    def _word_forms(self, word: str) -> frozenset[str]:
        if self._may_stem.admits(word):
            return morph.forms(word, STEM)
        return morph.unstemmed_forms(word)

    def match(self, toks: list[str]) -> list[str]:
        keys = self.token_forms(toks)
        hits: dict[str, list[Span]] = defaultdict(list)
        for hit in self._positive.find_in_forms(keys):
            hits[hit.key].append((hit.start, hit.end))
        present: set[str] = set().union(*keys)
        for name, rules in self._near.items():
            for rule in rules:
                hits[name].extend(rule.spans(keys, present))
        matched = []
        for name in self.names:
            spans = hits.get(name)
            if not spans:
                continue
            index = self._exclude.get(name)
            if index is not None:
                excluded = [(h.start, h.end) for h in index.find_in_forms(keys)]
                spans = [s for s in spans if not overlaps(s, excluded)]
            if spans and not self._in_other_context(name, keys):
                matched.append(name)
        return matched

    def _in_other_context(self, name: str, keys: list[frozenset[str]]) -> bool:
        """Whether the post is an advert, review, story or match report for this topic."""
        index = self._unless.get(name)
        return index is not None and next(index.find_in_forms(keys), None) is not None


class TailFilter:
    """Whether a word could stem to one of some roots. A stem is the word minus affixes with
    at most its first letter restored (memukul -> pukul), so a word that lacks every root's
    tail (the root minus its first letter) cannot stem to any of them and skips the stemmer:
    most words of most posts, and stemming is the costly part of matching."""

    def __init__(self, roots: set[str]) -> None:
        self._tails = frozenset(r[1:] for r in roots)
        self._lengths = sorted({len(t) for t in self._tails})

    def admits(self, word: str) -> bool:
        tails, size = self._tails, len(word)
        for length in self._lengths:
            if length > size:
                return False
            for i in range(size - length + 1):
                if word[i:i + length] in tails:
                    return True
        return False


class _NearIndex:
    """A phrase of list `a` and a phrase of list `b`, at most `window` tokens apart."""

    def __init__(self, a: PhraseIndex, b: PhraseIndex, window: int) -> None:
        self.a, self.b, self.window = a, b, window
        self._a_first, self._b_first = a.first_words(), b.first_words()

    def spans(self, keys: list[frozenset[str]], present: set[str]) -> list[Span]:
        if self._a_first.isdisjoint(present) or self._b_first.isdisjoint(present):
            return []  # the common case, decided without scanning
        a_hits = [(h.start, h.end) for h in self.a.find_in_forms(keys)]
        if not a_hits:
            return []
        b_hits = [(h.start, h.end) for h in self.b.find_in_forms(keys)]
        return [
            (min(a0, b0), max(a1, b1))
            for a0, a1 in a_hits
            for b0, b1 in b_hits
            if not overlaps((a0, a1), [(b0, b1)]) and max(a0, b0) - min(a1, b1) < self.window
        ]
