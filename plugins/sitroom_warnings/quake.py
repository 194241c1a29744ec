"""BMKG earthquake reports (autogempa, gempaterkini, gempadirasakan) in JSON or XML.

BMKG sends every value as an Indonesian string: "7.52 LS" (south), "110.44 BT" (east),
"10 km", "5.8", "12 Des 2025" + "14:35:21 WIB", felt intensity as MMI text
("II - III Cianjur, II Sukabumi") and tsunami potential as a sentence ("Tidak berpotensi
tsunami"). This module turns one document into events with numbers in base units, or
refuses a record with a countable reason; it never guesses a missing number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.etree.ElementTree import Element

from sitroom.api import haversine_m, semarang_centre
from sitroom_warnings.cap import Refused

MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "mei": 5, "may": 5, "jun": 6, "jul": 7,
          "agu": 8, "agt": 8, "aug": 8, "sep": 9, "okt": 10, "oct": 10, "nov": 11, "des": 12,
          "dec": 12}
ZONES = {"WIB": 7, "WITA": 8, "WIT": 9, "UTC": 0}
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
         "X": 10, "XI": 11, "XII": 12}
_FELT_ENTRY = re.compile(r"^\s*([IVX]+)(?:\s*-\s*([IVX]+))?\s+(.+?)\s*$")
_WORD = re.compile(r"[^a-z0-9]+")
MAX_EVENTS = 100


@dataclass(frozen=True)
class Quake:
    time: float
    latitude: float
    longitude: float
    magnitude: float
    depth_m: float
    region: str
    tsunami: bool | None  # None: the report does not say (gempadirasakan)
    felt: str  # the MMI text as BMKG wrote it ("" when none)
    felt_max_mmi: int  # highest intensity anywhere in `felt` (0 = none listed)
    felt_city_mmi: int  # intensity listed for the city (0 = not listed)

    @property
    def distance_m(self) -> float:
        return haversine_m(semarang_centre(), (self.latitude, self.longitude))

    @property
    def key(self) -> str:
        return f"{self.time:.0f}/{self.latitude:.2f}/{self.longitude:.2f}"


def _number(text: str, field: str) -> float:
    match = re.match(r"^\s*(-?\d+(?:[.,]\d+)?)", text or "")
    if not match:
        raise Refused("bad_number", f"{field} {text[:20]!r} is not a number")
    return float(match.group(1).replace(",", "."))


def _coordinate(text: str, field: str, negative: str, positive: str) -> float:
    value = _number(text, field)
    hemisphere = text.strip().split()[-1].upper() if text.strip() else ""
    if hemisphere == negative:
        return -abs(value)
    if hemisphere == positive or hemisphere == "":
        return value
    raise Refused("bad_number", f"{field} hemisphere {hemisphere[:4]!r}")


def _time(record: dict[str, str]) -> float:
    stamp = record.get("DateTime", "")
    if stamp:
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if when.tzinfo is not None:
                return when.timestamp()
        except ValueError:
            pass
    date, clock = record.get("Tanggal", ""), record.get("Jam", "")
    try:
        day, month, year = date.split()
        hms, zone = clock.split()
        hour, minute, second = (int(p) for p in hms.split(":"))
        offset = timezone(timedelta(hours=ZONES[zone.upper()]))
        when = datetime(int(year), MONTHS[month[:3].lower()], int(day), hour, minute, second,
                        tzinfo=offset)
    except (ValueError, KeyError):
        raise Refused("bad_time", f"time {date[:20]!r} {clock[:20]!r}") from None
    return when.timestamp()


def _about_city(place: str) -> bool:
    words = [w for w in _WORD.split(place.lower()) if w]
    return any(w == "semarang" and (i == 0 or words[i - 1] not in ("kab", "kabupaten"))
               for i, w in enumerate(words))


def felt_intensities(text: str) -> tuple[int, int]:
    """(highest MMI anywhere, highest MMI listed for the city) from BMKG's felt text."""
    highest = city = 0
    for entry in text.split(","):
        match = _FELT_ENTRY.match(entry)
        if not match:
            continue
        low, high, place = match.groups()
        level = ROMAN.get(high or low, 0)
        highest = max(highest, level)
        if _about_city(place):
            city = max(city, level)
    return highest, city


def tsunami_potential(text: str | None) -> bool | None:
    if text is None:
        return None
    lowered = " ".join(text.lower().split())
    if "tsunami" not in lowered:
        return False
    return "tidak berpotensi" not in lowered and "tidak ada potensi" not in lowered


def parse_record(record: dict[str, str]) -> Quake:
    if not all(isinstance(v, str) for v in record.values()):
        raise Refused("bad_number", "BMKG sends every value as a string")
    for needed in ("Magnitude", "Kedalaman"):
        if needed not in record:
            raise Refused("missing_field", f"no {needed}")
    if "Lintang" in record and "Bujur" in record:
        latitude = _coordinate(record["Lintang"], "Lintang", "LS", "LU")
        longitude = _coordinate(record["Bujur"], "Bujur", "BB", "BT")
    elif "Coordinates" in record:
        lat_text, _, lon_text = record["Coordinates"].partition(",")
        latitude, longitude = _number(lat_text, "lat"), _number(lon_text, "lon")
    else:
        raise Refused("missing_field", "no coordinates")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Refused("bad_number", "coordinates off the globe")
    magnitude = _number(record["Magnitude"], "Magnitude")
    depth_text = record["Kedalaman"]
    depth_m = _number(depth_text, "Kedalaman") * (1 if depth_text.strip().endswith(" m")
                                                  else 1000)
    if not (0 <= magnitude <= 10 and 0 <= depth_m <= 1_000_000):
        raise Refused("bad_number", "magnitude or depth out of range")
    felt = " ".join(record.get("Dirasakan", "").split())
    highest, city = felt_intensities(felt)
    return Quake(_time(record), latitude, longitude, magnitude, depth_m,
                 " ".join(record.get("Wilayah", "").split()),
                 tsunami_potential(record.get("Potensi")), felt, highest, city)


def _records_json(body: bytes) -> list[dict[str, str]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused("malformed_json", "not JSON") from None
    gempa = data.get("Infogempa", {}).get("gempa") if isinstance(data, dict) else None
    if isinstance(gempa, dict):
        return [gempa]
    if isinstance(gempa, list) and all(isinstance(g, dict) for g in gempa):
        return gempa[:MAX_EVENTS]
    raise Refused("not_bmkg", "no Infogempa.gempa")


def _records_xml(root: Element) -> list[dict[str, str]]:
    if root.tag != "Infogempa":
        raise Refused("not_bmkg", f"root {root.tag[:30]!r}")
    records = []
    for gempa in root.findall("gempa")[:MAX_EVENTS]:
        record = {}
        for child in gempa:
            if child.tag == "point":  # <point><coordinates>lon,lat</coordinates></point>
                continue
            record[child.tag] = (child.text or "").strip()
        records.append(record)
    return records


def read_quakes(body: bytes, root: Element | None) -> tuple[list[Quake], list[str]]:
    """Events of a BMKG document (JSON when `root` is None, else its parsed XML), newest
    first, and the reasons of the records refused."""
    records = _records_json(body) if root is None else _records_xml(root)
    quakes, refused = [], []
    for record in records:
        try:
            quakes.append(parse_record(record))
        except Refused as exc:
            refused.append(exc.reason)
    quakes.sort(key=lambda q: q.time, reverse=True)
    return quakes, refused
