"""Indonesian word forms: so that "robohnya", "dirobohkan" and "roboh" can meet one phrase.

Indonesian builds words with prefixes, suffixes, circumfixes and clitics (di-, ter-, ke-...-an,
pe-...-an, -nya, -lah, pasca-). Exact token matching therefore misses most mentions written
by anyone but the phrase list's author. Each token gets two extra forms:

* `light`: the word without enclitics (-nya, -lah, -kah, -pun) and without the pasca-/pra-
  prefixes, which the stemmer does not know ("pascakebakaran" -> "kebakaran"), and without
  the Javanese definite suffix of Semarang's mixed posts (-e after a consonant, -ne after a
  vowel: "banjire" -> "banjir", "kaline" -> "kali") when what is left is a root;
* `stem`: the root from Sastrawi (PySastrawi, MIT), the maintained Nazief-Adriani style
  stemmer with its 29k-root dictionary ("kebanjiran" -> "banjir", "penganiayaan" ->
  "aniaya").

Stemming costs ~0.07 ms per new word; a post repeats words the city repeats, so stems are
cached (bounded: a flood of junk words cannot grow memory without limit), and the matcher
only asks for the stem of a word that could stem to one of its roots (see topics.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

STEM_CACHE_SIZE = 100_000
"""Distinct words whose stem is remembered (~15 MB at most; a day of city posts uses far less)."""
_CLITICS = ("nya", "lah", "kah", "pun")
_PREFIXES = ("pasca", "pra")
_MIN_REST = 4
"""A clitic or prefix is only peeled if at least this many letters remain ("tanya" stays)."""
_VOWELS = frozenset("aiueo")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    """Sastrawi's stemmer without its own cache (an unbounded dict): ours is bounded."""
    return StemmerFactory().create_stemmer().delegatedStemmer


def is_root(word: str) -> bool:
    """Whether Sastrawi's dictionary lists the word as a root ("sekolah", "tanya")."""
    return bool(_stemmer().dictionary.contains(word))


def light(word: str) -> str:
    """The word without enclitics and pasca-/pra-: "robohnya" -> "roboh", "sekolah" stays."""
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= _MIN_REST + 1:
            word = word[len(prefix):]
            break
    for clitic in _CLITICS:
        if word.endswith(clitic) and len(word) - len(clitic) >= _MIN_REST:
            return word if is_root(word) else word[: -len(clitic)]  # "sekolah" is a word
    return _javanese_base(word)


def _javanese_base(word: str) -> str:
    """"banjire" -> "banjir", "lampune" -> "lampu": Javanese -e follows a consonant and -ne a
    vowel. Peeled only when the word is not itself a root and what is left is one, so
    "tempe" and "sate" stay (English loans such as "mobile" -> "mobil" slip through)."""
    if not word.endswith("e") or is_root(word):
        return word
    rest = word[:-1]
    if len(rest) >= _MIN_REST and rest[-1] not in _VOWELS and is_root(rest):
        return rest
    rest = word[:-2]
    if (word.endswith("ne") and len(rest) >= _MIN_REST and rest[-1] in _VOWELS
            and is_root(rest)):
        return rest
    return word


@lru_cache(maxsize=STEM_CACHE_SIZE)
def stem(word: str) -> str:
    """The root of a lower-case word ("kebakaran" -> "bakar"); digits and short words stay."""
    if len(word) <= 3 or not word.isalpha():
        return word
    return str(_stemmer().stem(light(word))) or word


def forms(word: str, stem_prefix: str = "~") -> frozenset[str]:
    """The forms a phrase word may meet in this token: surface, light, and `~stem`."""
    return frozenset((word, light(word), stem_prefix + stem(word)))


def unstemmed_forms(word: str) -> frozenset[str]:
    """Surface and light form only: for a word that cannot stem to any root a matcher uses."""
    return frozenset((word, light(word)))


def cache_info() -> str:
    info = stem.cache_info()
    return f"{info.currsize} stems cached, {info.hits} hits, {info.misses} misses"
