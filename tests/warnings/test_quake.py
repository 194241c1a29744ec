"""`earthquake_feed` against BMKG-format documents (JSON and XML, every value a string)."""

from __future__ import annotations

import json

import pytest

from sitroom.api import SourceError, haversine_m, semarang_centre
from sitroom_warnings.quake import felt_intensities, parse_record, tsunami_potential

from .conftest import harness


@pytest.mark.parametrize("ext", ["json", "xml"])
async def test_latest_felt_quake_near_the_city(simulator, ext):
    config = {"kind": "earthquake_feed", "name": "bmkg-gempa",
              "url": f"{simulator}/DataMKG/TEWS/autogempa.{ext}"}
    async with harness(config) as h:
        await h.collect()
        assert h.value("sitroom_earthquake_latest_magnitude") == 4.1
        assert h.value("sitroom_earthquake_latest_depth_meters") == 8000
        expected = haversine_m(semarang_centre(), (-7.06, 110.33))
        assert h.value("sitroom_earthquake_latest_distance_meters") == pytest.approx(
            expected, abs=1)
        assert 10_000 < expected < 13_000
        assert h.value("sitroom_earthquake_latest_city_felt_mmi") == 3
        assert h.value("sitroom_earthquake_latest_felt_mmi") == 3
        assert h.value("sitroom_earthquake_latest_tsunami_potential") == 0
        assert h.value("sitroom_earthquake_events_total") == 1
        info = h.samples("sitroom_earthquake_latest_info")
        (labels,) = info
        assert "Kota Semarang" in labels[-2] and labels[-1].startswith("III Semarang")


async def test_gempaterkini_list_takes_the_newest_and_counts_every_event(simulator):
    config = {"kind": "earthquake_feed", "name": "bmkg-terkini",
              "url": f"{simulator}/DataMKG/TEWS/gempaterkini.json"}
    async with harness(config) as h:
        await h.collect()
        await h.collect()
        assert h.value("sitroom_earthquake_events_total") == 2
        assert h.value("sitroom_earthquake_latest_magnitude") == 4.1


RECORD = {"Tanggal": "12 Des 2025", "Jam": "14:35:21 WIB", "Lintang": "7.52 LS",
          "Bujur": "110.44 BT", "Magnitude": "5.8", "Kedalaman": "10 km",
          "Wilayah": "Pusat gempa berada di darat 8 km barat daya Sleman",
          "Potensi": "Tidak berpotensi tsunami", "Dirasakan": "II - III Cianjur, II Sukabumi"}


def test_indonesian_strings_become_numbers_in_base_units():
    quake = parse_record(RECORD)  # no DateTime: Tanggal + Jam in WIB
    assert quake.latitude == -7.52 and quake.longitude == 110.44
    assert quake.time == 1765524921.0  # 2025-12-12T07:35:21Z
    assert (quake.felt_max_mmi, quake.felt_city_mmi) == (3, 0)
    assert quake.tsunami is False


@pytest.mark.parametrize(("text", "expected"), [
    ("Tidak berpotensi tsunami", False),
    ("Berpotensi TSUNAMI untuk diteruskan pada masyarakat", True),
    ("Gempa ini dirasakan untuk diteruskan pada masyarakat", False),
    (None, None),
])
def test_tsunami_potential_from_bmkg_sentences(text, expected):
    assert tsunami_potential(text) is expected


def test_felt_text_for_the_city_ignores_the_regency():
    assert felt_intensities("IV Kab. Semarang, III Kota Semarang, V Ungaran") == (5, 3)
    assert felt_intensities("tidak jelas, II-III Semarang") == (3, 3)


@pytest.mark.parametrize(("change", "reason"), [
    ({"Magnitude": "lima"}, "bad_number"),
    ({"Magnitude": 5.8}, "bad_number"),  # BMKG sends strings; a number means another API
    ({"Lintang": "7.52 XX"}, "bad_number"),
    ({"Jam": "25:99:00 WIB"}, "bad_time"),
    ({"Kedalaman": None}, "bad_number"),
])
async def test_bad_records_are_refused_and_the_good_one_kept(documents, change, reason):
    bad = {**RECORD, **change}
    documents.files["/g.json"] = json.dumps(
        {"Infogempa": {"gempa": [RECORD, bad]}}).encode()
    async with harness({"kind": "earthquake_feed", "name": "x",
                        "url": f"{documents.base}/g.json"}) as h:
        await h.collect()
        assert h.value("sitroom_earthquake_records_refused_total", reason=reason) == 1
        assert h.value("sitroom_earthquake_latest_magnitude") == 5.8


@pytest.mark.parametrize(("body", "reason"), [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Infogempa>&a;</Infogempa>',
     "hostile_xml"),
    (b"<Infogempa><gempa>", "malformed_xml"),
    (b'{"Infogempa": {"gempa": "none"}}', "not_bmkg"),
    (b"{not json", "malformed_json"),
])
async def test_bad_documents_fail_the_poll_with_a_counted_reason(documents, body, reason):
    documents.files["/g"] = body
    async with harness({"kind": "earthquake_feed", "name": "x",
                        "url": f"{documents.base}/g"}) as h:
        with pytest.raises(SourceError) as excinfo:
            await h.collect()
        assert excinfo.value.reason == reason
        assert h.value("sitroom_earthquake_records_refused_total", reason=reason) == 1
