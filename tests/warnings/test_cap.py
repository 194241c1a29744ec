"""`cap_feed` against the simulator's BMKG and PetaBencana documents and crafted ones."""

from __future__ import annotations

import pytest

from sitroom.api import SourceError
from sitroom_warnings.areas import alert_areas, districts_named
from sitroom_warnings.cap import Alert, Area
from sitroom_warnings.simulator import cap_alert

from .conftest import harness

RAIN = "Hujan Lebat disertai Kilat/Petir dan Angin Kencang"


def active(h, area: str, event: str = RAIN, severity: str = "Severe",
           urgency: str = "Immediate", certainty: str = "Likely") -> float | None:
    return h.value("sitroom_cap_alerts_active", event=event, severity=severity,
                   urgency=urgency, certainty=certainty, area=area)


async def test_bmkg_nowcast_index_gives_active_alerts_by_kecamatan(simulator, clock):
    config = {"kind": "cap_feed", "name": "bmkg",
              "url": f"{simulator}/alerts/nowcast/id/rss.xml"}
    async with harness(config, clock) as h:
        await h.collect()
        for area in ("semarang-utara", "genuk", "gayamsari"):
            assert active(h, area) == 1
        assert active(h, "semarang-barat") is None
        # the Kendal / Kab. Semarang warning is outside the city, the old one expired
        assert h.value("sitroom_cap_alerts_refused_total", reason="outside") == 1
        assert h.value("sitroom_cap_alerts_refused_total", reason="expired") == 1
        assert h.value("sitroom_cap_alerts_received_total", msg_type="Alert") == 2
        assert h.samples("sitroom_cap_alerts_active").keys().__len__() == 3
        fetched = h.value("sitroom_cap_documents_fetched_total")
        assert fetched == 4  # the index and its three CAP files
        expires = h.value("sitroom_cap_alert_expires_timestamp_seconds", event=RAIN,
                          area="genuk")
        assert expires is not None and expires > clock.now
        await h.collect()  # known files are not fetched again; nothing counted twice
        assert h.value("sitroom_cap_documents_fetched_total") == fetched + 1
        assert h.value("sitroom_cap_alerts_received_total", msg_type="Alert") == 2
        clock.now = expires + 1  # past expiry: the alert's series go
        await h.collect()
        assert active(h, "genuk") is None


async def test_petabencana_flood_states_expire_after_the_documented_six_hours(simulator,
                                                                              clock):
    config = {"kind": "cap_feed", "name": "petabencana", "flood_states": True,
              "url": f"{simulator}/floods?minimum_state=1&format=xml&geoformat=cap"}
    async with harness(config, clock) as h:
        await h.collect()
        assert h.value("sitroom_cap_flood_state", area="gayamsari") == 3
        assert h.value("sitroom_cap_flood_state", area="semarang-utara") == 2
        assert active(h, "gayamsari", event="FLOODING", severity="Moderate",
                      certainty="Observed") == 1
        start = clock.now - clock.now % 3600
        assert h.value("sitroom_cap_alert_expires_timestamp_seconds", event="FLOODING",
                       area="gayamsari") == pytest.approx(start + 6 * 3600)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol2;</identifier></alert>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""


@pytest.mark.parametrize(("body", "reason"), [
    (BILLION_LAUGHS, "hostile_xml"),
    (EXTERNAL, "hostile_xml"),
    (BILLION_LAUGHS.decode().encode("utf-16"), "hostile_xml"),
    (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</alert>",
     "malformed_xml"),
    (b"<html><body>502 Bad Gateway</body></html>", "not_cap"),
])
async def test_hostile_and_malformed_documents_are_refused_with_a_reason(documents, body,
                                                                         reason):
    documents.files["/cap.xml"] = body
    async with harness({"kind": "cap_feed", "name": "x",
                        "url": f"{documents.base}/cap.xml"}) as h:
        with pytest.raises(SourceError) as excinfo:
            await h.collect()
        assert excinfo.value.reason == reason
        assert h.value("sitroom_cap_alerts_refused_total", reason=reason) == 1


def _alert(identifier: str, now: float, **overrides) -> bytes:
    fields = dict(identifier=identifier, sender="BMKG", sent=now - 60, event="Hujan Lebat",
                  severity="Moderate", urgency="Immediate", certainty="Observed",
                  areas=[("Kec. Tembalang, Kota Semarang", "")], expires=now + 3600,
                  headline="h", description="d")
    fields.update(overrides)
    return cap_alert(**fields).encode()


async def test_an_index_keeps_good_files_and_counts_each_bad_one(documents, clock):
    now = clock.now
    good = _alert("A1", now)
    documents.files.update({
        "/a1.xml": good,
        "/bad.xml": BILLION_LAUGHS,
        "/broken.xml": b"<alert",
        "/old.xml": _alert("A0", now, expires=now - 10),
        "/test.xml": good.replace(b"<status>Actual", b"<status>Exercise"),
        "/weird.xml": _alert("A3", now, severity="Sangat Berat"),
        "/index.xml": (
            "<rss version='2.0'><channel>"
            + "".join(f"<item><link>{link}</link></item>" for link in (
                "/a1.xml", "bad.xml", f"{documents.base}/broken.xml", "/old.xml",
                "/test.xml", "/weird.xml", "/missing.xml",
                "http://10.1.2.3/internal.xml", "file:///etc/passwd"))
            + "</channel></rss>").encode(),
    })
    config = {"kind": "cap_feed", "name": "x", "url": f"{documents.base}/index.xml"}
    async with harness(config, clock) as h:
        await h.collect()
        assert active(h, "tembalang", event="Hujan Lebat", severity="Moderate",
                      certainty="Observed") == 1
        refused = {k[-1]: v for k, v in h.samples("sitroom_cap_alerts_refused_total").items()}
        assert refused == {"hostile_xml": 1, "malformed_xml": 1, "expired": 1,
                           "not_actual": 1, "bad_severity": 1, "fetch": 1,
                           "foreign_link": 2}
        assert documents.hits.get("/internal.xml") is None
        await h.collect()  # refused files are not fetched again; the missing one is
        assert documents.hits["/bad.xml"] == 1
        assert documents.hits["/missing.xml"] == 2


async def test_update_and_cancel_withdraw_what_they_reference(documents, clock):
    now = clock.now
    first = _alert("W1", now)
    key = f"BMKG,W1,{first.split(b'<sent>')[1].split(b'</sent>')[0].decode()}"
    update = _alert("W2", now, severity="Severe").replace(
        b"<scope>Public</scope>", f"<scope>Public</scope><references>{key}</references>"
        .encode()).replace(b"<msgType>Alert", b"<msgType>Update")
    documents.files["/index.xml"] = (
        b"<rss version='2.0'><channel><item><link>/w1.xml</link></item>"
        b"<item><link>/w2.xml</link></item></channel></rss>")
    documents.files["/w1.xml"] = first
    documents.files["/w2.xml"] = update
    config = {"kind": "cap_feed", "name": "x", "url": f"{documents.base}/index.xml"}
    async with harness(config, clock) as h:
        await h.collect()
        assert active(h, "tembalang", event="Hujan Lebat", severity="Severe",
                      certainty="Observed") == 1
        assert active(h, "tembalang", event="Hujan Lebat", severity="Moderate",
                      certainty="Observed") is None
        cancel = update.replace(b"<msgType>Update", b"<msgType>Cancel").replace(
            b"<identifier>W2", b"<identifier>W3")
        key2 = f"BMKG,W2,{update.split(b'<sent>')[1].split(b'</sent>')[0].decode()}"
        cancel = cancel.replace(key.encode(), key2.encode())
        documents.files["/w3.xml"] = cancel
        documents.files["/index.xml"] = documents.files["/index.xml"].replace(
            b"</channel>", b"<item><link>/w3.xml</link></item></channel>")
        await h.collect()
        assert h.samples("sitroom_cap_alerts_active") == {}
        assert h.value("sitroom_cap_alerts_received_total", msg_type="Cancel") == 1


def _area(text: str, *polygons) -> Alert:
    return Alert("k", "Alert", 0, 1e12, 0, "e", "Minor", "Future", "Possible",
                 (Area(text, tuple(polygons)),))


@pytest.mark.parametrize(("text", "expected"), [
    ("Kec. Tugu, Kota Semarang", {"tugu"}),
    ("Kec. Semarang Utara, Kec. Semarang Tengah, Kota Semarang",
     {"semarang-utara", "semarang-tengah"}),
    ("Tugu, Ngaliyan, Mijen (Kota Semarang)", {"tugu", "ngaliyan", "mijen"}),
    ("Kec. Tugu, Kab. Tegal", set()),  # another Tugu
    ("Kec. Ungaran Barat, Kab. Semarang", set()),  # the regency, not the city
])
def test_area_descriptions_name_kecamatan_only_within_the_city(text, expected):
    assert districts_named(text) == expected


def test_polygons_cover_the_kecamatan_whose_centre_they_hold():
    around_genuk = ((-6.97, 110.47), (-6.97, 110.50), (-6.94, 110.50), (-6.94, 110.47))
    assert alert_areas(_area("Jawa Tengah bagian utara", around_genuk)) == {"genuk"}
    whole_city = ((-7.2, 110.2), (-7.2, 110.6), (-6.9, 110.6), (-6.9, 110.2))
    assert len(alert_areas(_area("Jawa Tengah", whole_city))) == 16
    tiny_near_centre = ((-6.9935, 110.4200), (-6.9935, 110.4205), (-6.9930, 110.4205))
    assert alert_areas(_area("Simpang Lima", tiny_near_centre)) == {"semarang"}
    far = ((-7.8, 110.3), (-7.8, 110.4), (-7.7, 110.4))
    assert alert_areas(_area("Kab. Bantul", far)) == {"outside"}
    assert alert_areas(_area("Kota Semarang")) == {"semarang"}


async def test_the_simulator_never_reports_from_the_future(simulator, clock):
    """In the first minutes of its cycle the simulator once stamped reports ahead of the
    clock, so the demo's flood states vanished for five minutes every hour."""
    clock.now = clock.now - clock.now % 3600 + 1  # one second into the simulator's cycle
    config = {"kind": "cap_feed", "name": "petabencana", "flood_states": True,
              "url": f"{simulator}/floods?minimum_state=1&format=xml&geoformat=cap"}
    async with harness(config, clock) as h:
        await h.collect()
        assert h.value("sitroom_cap_flood_state", area="gayamsari") == 3
