"""Finding multi-word phrases in a token list, the one matching primitive topics and places share.

Phrases are compiled through `text.tokens()`, so a configured "Jl. Kaligawe" and a post's
"jln kaligawe" meet in the same normal form. Lookup is by first token, so the cost per post
is proportional to its length, not to the number of phrases configured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sitroom_social.text import tokens

Span = tuple[int, int]


def compile_phrase(phrase: str) -> tuple[str, ...]:
    words = tuple(tokens(phrase))
    if not words:
        raise ValueError(f"phrase {phrase!r} has no words after normalisation")
    return words


@dataclass(frozen=True)
class Hit:
    key: str
    start: int
    end: int


class PhraseIndex:
    """Phrases, each tagged with a key (a topic, a district), searchable in token lists."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        self.vocabulary: set[str] = set()

    def add(self, phrase: str, key: str) -> None:
        self.add_words(compile_phrase(phrase), key)

    def add_words(self, words: tuple[str, ...], key: str) -> None:
        """A phrase already compiled (by `compile_phrase` or by the topic matcher's needles)."""
        entries = self._by_first[words[0]]
        if (words, key) not in entries:
            entries.append((words, key))
            # longest first, so "semarang utara" wins over a shorter phrase at one position
            entries.sort(key=lambda item: -len(item[0]))
        self.vocabulary.update(words)

    def add_all(self, phrases: Iterable[str], key: str) -> None:
        for phrase in phrases:
            self.add(phrase, key)

    def find(self, toks: list[str]) -> Iterator[Hit]:
        """Every (phrase key, span) occurrence, in text order."""
        for i, tok in enumerate(toks):
            for words, key in self._by_first.get(tok, ()):
                end = i + len(words)
                if tuple(toks[i:end]) == words:
                    yield Hit(key, i, end)


    def first_words(self) -> frozenset[str]:
        """Words some phrase starts with: a post with none of them has no hit."""
        return frozenset(self._by_first)

    def find_in_forms(self, keys: list[frozenset[str]]) -> Iterator[Hit]:
        """Like `find`, over tokens that each carry several forms (surface, light, ~stem): a
        phrase word matches a token if it is one of that token's forms."""
        n = len(keys)
        for i, forms in enumerate(keys):
            for form in forms:
                for words, key in self._by_first.get(form, ()):
                    end = i + len(words)
                    if end <= n and all(w in keys[i + k] for k, w in enumerate(words)):
                        yield Hit(key, i, end)


def overlaps(span: Span, others: Iterable[Span]) -> bool:
    start, end = span
    return any(start < o_end and o_start < end for o_start, o_end in others)
