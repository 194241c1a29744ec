"""Which of Semarang's kecamatan a warning covers, from its polygons, circles and text.

A CAP area is a free-text description plus optional polygons and circles. A kecamatan is
covered when its (approximate) centre lies inside a polygon or circle, or when the
description names it in a text that is about the city ("Kec. Tugu, Kota Semarang"; a bare
"Tugu" elsewhere in Java is not ours, and "Kab. Semarang" is the neighbouring regency). A
warning that reaches the city without naming a kecamatan is city-wide (`semarang`); one
that does not reach it is `outside`. Label values are the core's 16 district slugs plus
those two, so the `area` label stays bounded whatever the feed says.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sitroom.api import haversine_m, semarang_centre, semarang_districts
from sitroom_warnings.cap import Alert, Area

CITY = "semarang"
OUTSIDE = "outside"
CITY_RADIUS_M = 8_000.0  # a shape point this close to the centre reaches the city (its core);
# farther out the district centres decide, so a warning for a neighbouring regency whose
# polygon ends at the city boundary stays `outside`
_WORD = re.compile(r"[^a-z0-9]+")
_REGENCY = ("kab", "kabupaten", "regency")


def _words(text: str) -> list[str]:
    return [w for w in _WORD.split(text.lower()) if w]


@lru_cache(maxsize=1)
def _district_names() -> list[tuple[tuple[str, ...], str]]:
    """(name words, slug), longest names first so 'semarang utara' beats 'semarang'."""
    names = [(tuple(_words(d.name)), slug) for slug, d in semarang_districts().items()]
    return sorted(names, key=lambda item: -len(item[0]))


def _mentions_city(words: list[str]) -> bool:
    for index, word in enumerate(words):
        if word == CITY and (index == 0 or words[index - 1] not in _REGENCY):
            return True
    return False


def districts_named(text: str) -> set[str]:
    """Kecamatan named in a description that is about the city (else none)."""
    words = _words(text)
    if not _mentions_city(words):
        return set()
    found: set[str] = set()
    used = [False] * len(words)
    for name, slug in _district_names():
        size = len(name)
        for start in range(len(words) - size + 1):
            if tuple(words[start : start + size]) == name and not any(used[start:start + size]):
                found.add(slug)
                for index in range(start, start + size):
                    used[index] = True
    return found


def _inside(point: tuple[float, float], polygon: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting on (lon, lat) as a plane: fine at a city's scale."""
    lat, lon = point
    inside = False
    for (lat1, lon1), (lat2, lon2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (lat1 > lat) != (lat2 > lat):
            crossing = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < crossing:
                inside = not inside
    return inside


def _covered(area: Area) -> tuple[set[str], bool]:
    """Districts whose centre the area's shapes cover, and whether a shape reaches the city."""
    found: set[str] = set()
    reaches = False
    for slug, district in semarang_districts().items():
        if any(_inside(district.centre, p) for p in area.polygons) or any(
            haversine_m(district.centre, (lat, lon)) <= radius * 1000
            for lat, lon, radius in area.circles
        ):
            found.add(slug)
    for polygon in area.polygons:
        if _inside(semarang_centre(), polygon) or any(
            haversine_m(semarang_centre(), point) <= CITY_RADIUS_M for point in polygon
        ):
            reaches = True
    for lat, lon, radius in area.circles:
        if haversine_m(semarang_centre(), (lat, lon)) <= CITY_RADIUS_M + radius * 1000:
            reaches = True
    return found, reaches


def alert_areas(alert: Alert) -> set[str]:
    """The `area` label values of an alert: kecamatan slugs, else `semarang`, else outside."""
    districts: set[str] = set()
    city = False
    for area in alert.areas:
        covered, reaches = _covered(area)
        named = districts_named(area.description)
        districts |= covered | named
        city = city or reaches or _mentions_city(_words(area.description))
    if districts:
        return districts
    return {CITY} if city else {OUTSIDE}
