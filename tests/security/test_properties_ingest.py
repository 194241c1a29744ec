"""Property tests: bytes that gateways, citizens, bridges, feeds and config files control.

JSON ingest and SenML answer every item with a reason from a fixed set; the registration
form refuses with field errors only; the config loader reports issues, never raises; the XML
guard refuses entity declarations however they are encoded.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sitroom_flood
from sitroom.api import HostileFeed, check_feed
from sitroom.netguard import NetGuard
from sitroom.plugins import load_plugins
from sitroom.testing import SourceHarness
from sitroom.validation import load_config
from sitroom_flood.config import PayloadMapping
from sitroom_flood.payload import Decoder, Rejected
from sitroom_registry.config import BoundingBox
from sitroom_registry.models import InvalidRequest, RegistrationIn, check_stream, parse_model

REASONS = {"malformed", "wrong_type", "not_finite", "missing_field", "missing_sensor",
           "unknown_sensor", "bad_timestamp", "future_timestamp", "too_old", "out_of_range",
           "wrong_unit", "duplicate", "too_large", "batch_too_large", "no_mapping"}
KEYS = st.sampled_from(["sensor", "level", "ts", "battery", "signal", "rain", "bn", "bt", "bu",
                        "bv", "bs", "n", "v", "s", "t", "u", "level_cm", "batt", "rssi"])
HUGE = st.sampled_from([10**400, -(10**400), 2**1024, 10**309])  # no float holds them
SCALARS = st.one_of(
    st.none(), st.booleans(), HUGE, st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["bkb", "bkt", "arr", "tide", "level", "m", "cm", "mm/h", "%", "dBW",
                     "2026-12-07T01:00:00", "\ud800", "true", "0", "1", "yes"]))
READING = st.fixed_dictionaries(  # shaped like a reading, so values reach the decoder
    {"sensor": st.sampled_from(["bkb", "bkt"])},
    optional={k: SCALARS for k in ("level", "ts", "battery", "signal", "level_cm")})
SENML = st.lists(st.fixed_dictionaries({"n": st.sampled_from(["level", "battery", "x"])},
                                       optional={k: SCALARS for k in
                                                 ("bn", "bt", "bu", "bv", "v", "t", "u")}),
                 min_size=1, max_size=4)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.one_of(KEYS, st.text(max_size=5)), inner,
                                                 max_size=6)), max_leaves=25)


def encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("mapping", [{"format": "json"}, {"format": "senml"},
                                     {"format": "json", "fields": {"level": {"path": "level_cm",
                                                                             "scale": 1e300}}}])
def test_decoder_rejects_with_a_known_reason_or_returns_finite_values(mapping) -> None:
    decoder = Decoder(PayloadMapping.model_validate(mapping))

    @given(st.one_of(READING.map(encode), SENML.map(encode), JSON.map(encode),
                     st.binary(max_size=200)))
    def check(payload: bytes) -> None:
        try:
            readings = decoder.decode_bytes(payload, None)
        except Rejected as exc:
            assert exc.reason in REASONS
            return
        for reading in readings:
            assert all(math.isfinite(v) for v in reading.values.values())
            assert reading.timestamp is None or math.isfinite(reading.timestamp)

    check()


def test_http_ingest_answers_every_item_and_matches_the_store() -> None:
    """What the summary says was accepted is exactly what the received counters show."""
    config = {"kind": "http_sensors", "name": "gw",
              "sensors": {"bkb": {"type": "water_level",
                                  "thresholds": {"waspada": 3, "siaga": 4, "awas": 5}}}}

    @given(st.one_of(st.lists(st.one_of(READING, JSON), max_size=6).map(encode),
                     JSON.map(encode), st.binary(max_size=300)),
           st.sampled_from(["application/json", "application/x-ndjson"]))
    def check(body: bytes, content_type: str) -> None:
        async def run() -> None:
            async with SourceHarness.from_plugin(sitroom_flood, config) as h:
                h.source.ingestor.start()
                summary = h.source.ingest_body(body, content_type)
                assert set(summary["reasons"]) <= REASONS, summary
                assert summary["accepted"] == sum(i["accepted"] for i in summary["items"])
                assert summary["accepted"] == h.source.ingestor.accepted
                rejected = sum(h.samples("sitroom_flood_messages_rejected_total").values())
                assert rejected == summary["rejected"]

        asyncio.run(run())

    check()


VALID_FORM: dict[str, Any] = {
    "owner_name": "Toko Sumber Rejeki", "contact_phone": "+6281234567890",
    "contact_email": "pemilik@example.id", "owner_type": "business",
    "address": "Jl. Pandanaran No. 12", "district": "Semarang Tengah",
    "latitude": -6.99, "longitude": 110.42, "consent": True,
    "stream": {"protocol": "http", "host": "127.0.0.1", "port": 80, "path": "/snap.jpg",
               "username": "admin", "password": "s3cret-pass"},
}
FORM_PATHS = [("consent",), ("stream", "port"), ("stream", "password"), ("stream", "url")] + [
    (k,) for k in VALID_FORM if k not in ("stream", "consent")] + [
    ("stream", k) for k in ("protocol", "host", "path", "username")]
STREAM_URLS = st.sampled_from([
    "rtsp://127.0.0.1:0/x", "http://127.0.0.1:0/snap.jpg", "http://a:b@127.0.0.1/?pwd=x",
    "https://[::1]:99999/", "rtsp://0x7f000001/", "http://\ud800/", "http://127.0.0.1/;x",
    "http://127.0.0.1:80/snap.jpg"])


FIELD_VALUES = {
    "url": STREAM_URLS,
    "consent": st.one_of(st.sampled_from(["true", 1, 1.0, "yes", "on", [True], {"v": True}]),
                         SCALARS),
    "port": st.one_of(st.sampled_from([0, -1, 65536, "80", 80.0, 10**400]), SCALARS),
    **{k: st.one_of(st.text(max_size=20).map(lambda t: t + "\ud800"),
                    st.text(min_size=1, max_size=20), SCALARS)
       for k in ("password", "username", "owner_name", "address", "path", "host")},
}


@st.composite
def hostile_forms(draw: st.DrawFn) -> Any:
    """A valid form with one to three fields replaced by hostile values (a random form is
    refused on its first field and never reaches the checks behind it)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    form = json.loads(json.dumps(VALID_FORM))
    for path in draw(st.lists(st.sampled_from(FORM_PATHS), min_size=1, max_size=2)):
        value = draw(FIELD_VALUES.get(path[-1], SCALARS))
        if path[-1] == "url":
            form["stream"] = {"url": value}
        elif len(path) == 2 and isinstance(form.get("stream"), dict):
            form["stream"][path[1]] = value
        else:
            form[path[0]] = value
    return form


async def no_dns(host: str) -> list[str]:
    raise OSError("no DNS in tests (loopback only)")


def test_registration_form_refuses_only_with_field_errors() -> None:
    guard = NetGuard(allow_networks=["127.0.0.0/8"], allowed_ports={80, 554}, resolver=no_dns)

    @given(hostile_forms())
    def check(data: Any) -> None:
        raw = json.loads(encode(data))
        try:
            form = parse_model(RegistrationIn, raw, BoundingBox())
            spec = asyncio.run(check_stream(form.stream, guard))
        except InvalidRequest as exc:
            assert exc.errors and all(e.field and e.message for e in exc.errors)
            return
        assert raw["consent"] is True  # consent is JSON true, not "true" or 1
        assert 1 <= spec.port <= 65535
        for text in (*form.model_dump(exclude={"stream"}).values(), spec.host, spec.path,
                     spec.username, spec.password):
            if isinstance(text, str):
                text.encode("utf-8")  # storable and loggable: no lone surrogates

    check()


YAML_TOKENS = st.sampled_from([
    "sources:", "daemon:", "simulators:", "\n", "  ", "- ", "kind: http_probe", "name: a",
    "url: http://127.0.0.1/", "interval: ", "99999999999999999999d", ".inf", ".nan", "&a ",
    "*a", "[", "]", "{", "}", ": ", "!!python/object:os.system", "'", '"', "\t", "#",
    "listen: ", "limits:", "max_series_per_source: ", "-1", "1e400", "timeout: 1s", "\x00",
])


def test_config_loader_reports_issues_never_raises(tmp_path: Path) -> None:
    plugins = load_plugins()
    counter = iter(range(10**9))

    @given(st.lists(st.one_of(YAML_TOKENS, st.text(max_size=8)), max_size=60).map("".join))
    def check(text: str) -> None:
        directory = tmp_path / f"c{next(counter)}"
        directory.mkdir()
        (directory / "10-fuzz.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        loaded = load_config(directory, plugins)
        for issue in loaded.issues:
            assert "10-fuzz.yaml" in issue.where or "10-fuzz.yaml" in issue.message

    check()


XML_PARTS = st.sampled_from([
    '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-7"?>', "<!DOCTYPE rss [",
    '<!ENTITY lol "lol">', '<!ENTITY x SYSTEM "file:///etc/passwd">', "]>", "<rss>",
    "</rss>", "&lol;", "<!--", "-->", "<![CDATA[", "]]>", "\x00", "<item>banjir</item>",
])
ENCODINGS = st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                             "utf-32-le", "utf-32-be", "utf-7", "cp037", "latin-1"])


@given(st.lists(st.one_of(XML_PARTS, st.text(max_size=10)), max_size=30).map("".join),
       ENCODINGS, st.binary(max_size=3))
def test_xml_guard_refuses_every_encoded_entity_declaration(text: str, encoding: str,
                                                            prefix: bytes) -> None:
    try:
        body = prefix + text.encode(encoding)
    except UnicodeEncodeError:
        return
    declares = "<!DOCTYPE" in text and "<!ENTITY" in text.split("<!DOCTYPE", 1)[1]
    if encoding == "cp037" and not text.startswith("<?xml"):
        declares = False  # an EBCDIC document must say so in its declaration, as XML requires
    if encoding == "utf-7" and "encoding=\"UTF-7\"" not in text[:60]:
        declares = False
    try:
        check_feed(body)
    except HostileFeed:
        return
    assert not declares, (encoding, text)


def test_xml_guard_on_codecs_bom_variants() -> None:
    text = '<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'
    for bom, encoding in ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE,
                                                                 "utf-16-le")):
        with pytest.raises(HostileFeed):
            check_feed(bom + text.encode(encoding))
