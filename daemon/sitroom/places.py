"""Semarang's 16 kecamatan: names, well-known places and approximate centres.

More than one plugin places things in a district (a social post by the places it names, a
CAP warning by its polygon or area description), and both must agree on the district label
values, so the list lives in the core once (data/semarang.yaml). Label values come only
from this file, never from the text being placed, which bounds metric cardinality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

CITY_CENTRE = (-6.9932, 110.4203)  # Simpang Lima, the conventional centre of the city
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class District:
    slug: str
    name: str
    centre: tuple[float, float]  # (lat, lon), approximate
    places: tuple[str, ...]


@lru_cache(maxsize=1)
def semarang_districts() -> dict[str, District]:
    """District slug -> District, from the shipped data file (parsed once)."""
    raw = yaml.safe_load(resources.files("sitroom").joinpath("data/semarang.yaml").read_text())
    districts = {}
    for slug, entry in raw["districts"].items():
        lat, lon = entry["centre"]
        districts[slug] = District(slug, str(entry["name"]), (float(lat), float(lon)),
                                   tuple(str(p) for p in entry.get("places") or ()))
    return districts


def semarang_centre() -> tuple[float, float]:
    """(lat, lon) of Simpang Lima, where distances "from the city" are measured."""
    return CITY_CENTRE


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in meters between two (lat, lon) points in degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
