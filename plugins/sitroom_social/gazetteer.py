"""Which of Semarang's 16 kecamatan a post is about, from place names in its text.

The core's district list (sitroom.api.semarang_districts) gives each kecamatan with its own
name and well-known places inside it (kelurahan, landmarks, roads known for floods).
District label values come only from this file and config, never from post text, which
bounds metric cardinality.
"""

from __future__ import annotations

import re

from sitroom.api import semarang_districts
from sitroom_social.phrases import PhraseIndex
from sitroom_social.text import register_vocabulary

UNKNOWN = "unknown"
DISTRICT_SLUG = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


def shipped_gazetteer() -> dict[str, dict[str, object]]:
    """District slug -> {name, places}: the core's list, in the shape this plugin reads."""
    return {slug: {"name": d.name, "places": list(d.places)}
            for slug, d in semarang_districts().items()}


class Gazetteer:
    """District slug -> display name, and a phrase index from places to districts."""

    def __init__(self, extra_places: dict[str, str] | None = None) -> None:
        data = shipped_gazetteer()
        self.names: dict[str, str] = {slug: str(d["name"]) for slug, d in data.items()}
        self._index = PhraseIndex()
        for slug, entry in data.items():
            places = entry.get("places") or []
            assert isinstance(places, list)
            self._index.add_all([str(p) for p in places], slug)
        for place, slug in (extra_places or {}).items():
            if slug not in self.names:
                raise ValueError(f"extra place {place!r}: unknown district {slug!r}")
            self._index.add(place, slug)
        register_vocabulary(self._index.vocabulary)

    @property
    def districts(self) -> tuple[str, ...]:
        return tuple(self.names)

    def locate(self, toks: list[str]) -> str:
        """The district of the first (longest) place named, or `unknown`."""
        for hit in self._index.find(toks):
            return hit.key
        return UNKNOWN

    def locate_all(self, toks: list[str]) -> list[str]:
        """Every district named, in text order, each once (the first is what `locate` says)."""
        out: list[str] = []
        for hit in self._index.find(toks):
            if hit.key not in out:
                out.append(hit.key)
        return out
