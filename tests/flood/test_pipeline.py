"""The shared ingest pipeline: readings, alert levels, rate of rise, rain, bad input.

Driven through the http_sensors source in a SourceHarness (same config validation, metric
store and label checks as the daemon), with explicit clocks so time-dependent rules are
exact without sleeping.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

import sitroom_flood
from sitroom.testing import SourceHarness
from sitroom_flood import metrics as m
from sitroom_flood.config import HttpSensorsConfig, MqttSensorsConfig
from sitroom_flood.levels import alert_level
from sitroom_flood.payload import Decoder
from sitroom_flood.topics import Router

from .conftest import TOPICS, sensors

MPS_PER_MMH = 1 / 3.6e6


def http_config(**extra):
    return {"kind": "http_sensors", "name": "gw", "sensors": sensors(), "rate_min_span": "60s",
            **extra}


@pytest.fixture
async def gateway():
    async with SourceHarness.from_plugin(sitroom_flood, http_config()) as harness:
        harness.source.ingestor.start()
        yield harness


def feed(harness, *items, now=None):
    ingestor, decoder = harness.source.ingestor, harness.source.decoder
    return sum(ingestor.ingest_document(decoder, item, now=now) for item in items)


def rejected(harness, reason, sensor=""):
    return harness.value(m.REJECTED, sensor=sensor, reason=reason) or 0


async def test_reading_sets_every_series_and_static_info(gateway):
    now = time.time()
    assert feed(gateway, {"sensor": "bkb", "level": 2.4, "battery": 0.8, "signal": -71,
                          "ts": now - 5}, now=now) == 1
    assert gateway.value(m.WATER_LEVEL, sensor="bkb") == 2.4
    assert gateway.value(m.BATTERY_RATIO, sensor="bkb") == 0.8
    assert gateway.value(m.SIGNAL, sensor="bkb") == -71
    assert gateway.value(m.LAST_SEEN, sensor="bkb") == pytest.approx(now - 5)
    assert gateway.value(m.ALERT_LEVEL, sensor="bkb") == 0
    assert gateway.value(m.RECEIVED, sensor="bkb") == 1
    assert gateway.value(m.WATER_LEVEL, sensor="bkt") is None  # never reported
    info = gateway.samples(m.INFO)
    assert ("bkb", "water_level", "Bendung Simongan", "Semarang Barat", "Banjir Kanal Barat",
            "-6.993300", "110.398600") in info
    assert gateway.value(m.THRESHOLD, sensor="bkb", level="siaga") == 4.0
    assert gateway.value(m.RAIN_THRESHOLD, sensor="arr", level="awas") == pytest.approx(
        50 * MPS_PER_MMH)


async def test_alert_levels_follow_thresholds_with_hysteresis(gateway):
    now = time.time()
    thresholds = sensors()["bkb"]["thresholds"]
    path = [(1.0, 0), (thresholds["waspada"], 1), (4.5, 2), (5.2, 3),
            (thresholds["awas"] - thresholds["hysteresis"] / 2, 3),  # held by hysteresis
            (4.9, 2), (1.0, 0)]
    for step, (level, expected) in enumerate(path):
        feed(gateway, {"sensor": "bkb", "level": level, "ts": now - 100 + step}, now=now)
        assert gateway.value(m.ALERT_LEVEL, sensor="bkb") == expected, (level, expected)
    # datum offset applies before thresholds: 3.0 reported + 0.5 = 3.5 >= siaga 3.2
    feed(gateway, {"sensor": "bkt", "level": 3.0}, now=now)
    assert gateway.value(m.WATER_LEVEL, sensor="bkt") == 3.5
    assert gateway.value(m.ALERT_LEVEL, sensor="bkt") == 2


def test_alert_level_function_edges():
    th = (1.0, 2.0, 3.0)
    assert [alert_level(v, th) for v in (0.99, 1.0, 2.5, 3.0, 99)] == [0, 1, 2, 3, 3]
    assert alert_level(2.95, th, previous=3, hysteresis=0.1) == 3
    assert alert_level(2.85, th, previous=3, hysteresis=0.1) == 2
    assert alert_level(0.5, th, previous=3, hysteresis=0.1) == 0


async def test_rain_gauge_levels_come_from_rain_rate(gateway):
    now = time.time()
    feed(gateway, {"sensor": "arr", "rain_rate": 25.0, "ts": now}, now=now)
    assert gateway.value(m.RAIN_RATE, sensor="arr") == pytest.approx(25 * MPS_PER_MMH)
    assert gateway.value(m.ALERT_LEVEL, sensor="arr") == 2


async def test_rate_of_rise_is_robust_to_noise_order_and_duplicates(gateway):
    rng = random.Random(3)
    now = time.time()
    true_rate = 1.0 / 3600  # a meter an hour: Kali Garang in a flash flood
    start = now - 900
    items = []
    for i in range(61):  # every 15 s over 15 minutes
        at = start + 15 * i
        level = 2.0 + true_rate * (at - start) + rng.gauss(0, 0.01)
        if i in (20, 41):
            level += 0.4  # debris under the sensor head
        items.append({"sensor": "bkb", "level": level, "ts": at})
    duplicates = [dict(items[i]) for i in (5, 30, 60)]  # QoS 1 redelivery
    shuffled = items[:]
    rng.shuffle(shuffled)
    feed(gateway, *shuffled, *duplicates, now=now)
    rate = gateway.value(m.RATE_OF_RISE, sensor="bkb")
    assert rate == pytest.approx(true_rate, rel=0.1)
    assert rejected(gateway, "duplicate", "bkb") == len(duplicates)
    # out of order did not move the current value back in time: it is the newest reading
    assert gateway.value(m.WATER_LEVEL, sensor="bkb") == items[-1]["level"]
    assert gateway.value(m.LAST_SEEN, sensor="bkb") == items[-1]["ts"]


async def test_rate_needs_a_minimum_span(gateway):
    now = time.time()
    feed(gateway, *({"sensor": "bkb", "level": 1 + i, "ts": now - 30 + i} for i in range(5)),
         now=now)
    assert gateway.value(m.RATE_OF_RISE, sensor="bkb") is None  # 4 s of data: no rate yet


BAD_ITEMS = [
    ({"sensor": "bkb", "level": "tinggi"}, "wrong_type", "bkb"),
    ({"sensor": "bkb", "level": True}, "wrong_type", "bkb"),
    ({"sensor": "bkb", "level": [1]}, "wrong_type", "bkb"),
    ({"sensor": "bkb", "level": 1e999}, "not_finite", "bkb"),
    ({"sensor": "bkb", "level": 1.0, "ts": "yesterday-ish"}, "bad_timestamp", "bkb"),
    ({"sensor": "bkb", "level": 1.0, "ts": "FUTURE"}, "future_timestamp", "bkb"),
    ({"sensor": "bkb", "level": 1.0, "ts": "OLD"}, "too_old", "bkb"),
    ({"sensor": "bkb", "level": 1e6}, "out_of_range", "bkb"),
    ({"sensor": "bkb", "battery": 7.5}, "out_of_range", "bkb"),
    ({"sensor": "bkb", "voltage": 12}, "missing_field", "bkb"),
    ({"sensor": "siluman-01", "level": 1.0}, "unknown_sensor", ""),
    ({"sensor": {"id": 1}, "level": 1.0}, "wrong_type", ""),
    ({"level": 1.0}, "missing_sensor", ""),
    ([1, 2], "wrong_type", ""),
]


async def test_bad_input_is_counted_by_reason_and_isolated(gateway):
    now = time.time()
    feed(gateway, {"sensor": "bkt", "level": 1.0, "battery": 0.9}, now=now)
    for item, reason, sensor in BAD_ITEMS:
        if isinstance(item, dict) and item.get("ts") == "FUTURE":
            item = {**item, "ts": now + 3600}
        if isinstance(item, dict) and item.get("ts") == "OLD":
            item = {**item, "ts": now - 7 * 86400}
        before = rejected(gateway, reason, sensor)
        assert feed(gateway, item, now=now) == 0, item
        assert rejected(gateway, reason, sensor) == before + 1, (item, reason)
    # nothing of it reached any series: bkb has no values, bkt keeps its own
    for name in (m.WATER_LEVEL, m.BATTERY_RATIO, m.ALERT_LEVEL, m.LAST_SEEN):
        assert gateway.value(name, sensor="bkb") is None, name
    assert gateway.value(m.WATER_LEVEL, sensor="bkt") == 1.5
    assert gateway.value(m.BATTERY_RATIO, sensor="bkt") == 0.9
    text = gateway.render()
    assert "siluman" not in text  # unknown ids never become label values
    assert gateway.source.ingestor.unknown == ["siluman-01"]
    received = sum(gateway.samples(m.RECEIVED).values())
    assert received == len(BAD_ITEMS) + 1


async def test_body_formats_and_bounds(gateway):
    source = gateway.source
    now = time.time()
    batch = json.dumps([{"sensor": "bkb", "level": 1.1, "ts": now - 2},
                        {"sensor": "bkt", "level": 1.2, "ts": now - 2}]).encode()
    assert source.ingest_body(batch, "application/json")["accepted"] == 2
    ndjson = b'{"sensor": "bkb", "level": 1.3}\n{"sensor": "bkb", "level": NaN}\n{oops\n'
    summary = source.ingest_body(ndjson, "application/x-ndjson")
    assert summary == {"accepted": 1, "rejected": 2,
                       "reasons": {"malformed": 1, "not_finite": 1},
                       "items": [{"accepted": 1}, {"accepted": 0, "reasons": {"not_finite": 1}},
                                 {"accepted": 0, "reasons": {"malformed": 1}}]}
    assert source.ingest_body(b"\x00\xff garbage", "application/json")["reasons"] == {
        "malformed": 1}
    assert gateway.value(m.WATER_LEVEL, sensor="bkb") == 1.3


async def test_batch_limit_rejects_the_whole_batch():
    config = http_config(max_batch=3)
    async with SourceHarness.from_plugin(sitroom_flood, config) as harness:
        body = "\n".join(json.dumps({"sensor": "bkb", "level": i}) for i in range(4)).encode()
        summary = harness.source.ingest_body(body, "application/x-ndjson")
        assert summary["accepted"] == 0
        assert summary["reasons"] == {"batch_too_large": 4}
        assert harness.value(m.WATER_LEVEL, sensor="bkb") is None


async def test_rain_accumulates_in_meters_and_rate_is_derived(gateway):
    now = time.time()
    feed(gateway, {"sensor": "arr", "rain": 0.0, "ts": now - 600}, now=now)
    feed(gateway, {"sensor": "arr", "rain": 5.0, "ts": now - 300}, now=now)
    assert gateway.value(m.RAIN_TOTAL, sensor="arr") == pytest.approx(0.005)
    # 5 mm in 5 minutes = 60 mm/h: Awas
    assert gateway.value(m.RAIN_RATE, sensor="arr") == pytest.approx(60 * MPS_PER_MMH)
    assert gateway.value(m.ALERT_LEVEL, sensor="arr") == 3
    # a device running total, reset by a logger reboot, never makes the counter go down
    feed(gateway, {"sensor": "arr", "rain_total": 100.0, "ts": now - 200}, now=now)
    feed(gateway, {"sensor": "arr", "rain_total": 102.0, "ts": now - 100}, now=now)
    feed(gateway, {"sensor": "arr", "rain_total": 1.0, "ts": now - 50}, now=now)
    assert gateway.value(m.RAIN_TOTAL, sensor="arr") == pytest.approx(0.005 + 0.002 + 0.001)


async def test_silent_sensor_values_expire_but_last_seen_stays(gateway):
    feed(gateway, {"sensor": "bkb", "level": 3.3})
    later = time.monotonic() + gateway.config.stale_after + 1
    gateway.metrics.expire(gateway.config.stale_after, now=later)
    assert gateway.value(m.WATER_LEVEL, sensor="bkb") is None
    assert gateway.value(m.ALERT_LEVEL, sensor="bkb") is None
    assert gateway.value(m.LAST_SEEN, sensor="bkb") is not None
    assert gateway.value(m.THRESHOLD, sensor="bkb", level="awas") == 5.0


async def test_last_seen_survives_a_restart(tmp_path):
    """A sensor that died before a daemon restart must still count as silent after it."""
    config = http_config()
    async with SourceHarness.from_plugin(sitroom_flood, config, state_dir=tmp_path) as first:
        first.source.ingestor.start()
        feed(first, {"sensor": "bkb", "level": 1.0, "ts": time.time() - 1200})
    async with SourceHarness.from_plugin(sitroom_flood, config, state_dir=tmp_path) as second:
        assert second.value(m.LAST_SEEN, sensor="bkb") is None
        second.source.ingestor.start()
        assert second.value(m.LAST_SEEN, sensor="bkb") == pytest.approx(time.time() - 1200,
                                                                         abs=5)
        assert second.value(m.LAST_SEEN, sensor="bkt") is None
        # a redelivered older reading does not roll it back
        feed(second, {"sensor": "bkb", "level": 2.0, "ts": time.time() - 1300})
        assert second.value(m.WATER_LEVEL, sensor="bkb") is None
    (tmp_path / "http_sensors" / "gw.last_seen.json").write_text("{broken")
    async with SourceHarness.from_plugin(sitroom_flood, config, state_dir=tmp_path) as third:
        third.source.ingestor.start()  # an unreadable file is not fatal
        assert third.value(m.LAST_SEEN, sensor="bkb") is None


async def test_late_readings_feed_history_but_not_the_current_value(gateway):
    now = time.time()
    old = now - gateway.config.stale_after - 60  # redelivered after a long outage
    assert feed(gateway, {"sensor": "bkb", "level": 4.4, "ts": old}, now=now) == 1
    assert gateway.value(m.WATER_LEVEL, sensor="bkb") is None
    assert gateway.value(m.LAST_SEEN, sensor="bkb") == old


async def test_distance_sensor_uses_its_mounting_height():
    config = http_config()
    config["sensors"]["bkb"]["datum_offset"] = 6.0  # radar head 6 m above the datum
    async with SourceHarness.from_plugin(sitroom_flood, config) as harness:
        harness.source.ingestor.start()
        feed(harness, {"sensor": "bkb", "distance": 1.5})
        assert harness.value(m.WATER_LEVEL, sensor="bkb") == 4.5
        assert harness.value(m.ALERT_LEVEL, sensor="bkb") == 2


def test_senml_pack_with_units_and_relative_time():
    decoder = Decoder(MqttSensorsConfig.model_validate(
        {"kind": "mqtt_sensors", "name": "x", "sensors": sensors(), "topics": TOPICS}
    ).topics[2])
    now = time.time()
    pack = [
        {"bn": "tide:", "bt": now - 10, "n": "level", "u": "cm", "v": 104},
        {"n": "battery", "u": "%EL", "v": 80},
        {"n": "signal", "u": "dBW", "v": -100},
        {"n": "temperature", "u": "Cel", "v": 29},  # not ours: ignored
        {"n": "level", "u": "m", "t": 5, "v": 1.1},
    ]
    readings = decoder.decode_bytes(json.dumps(pack).encode(), None)
    first, second = readings
    assert first.sensor == second.sensor == "tide"
    assert first.values == {"level": pytest.approx(1.04), "battery": 0.8, "signal": -70.0}
    assert first.timestamp == pytest.approx(now - 10)
    assert second.timestamp == pytest.approx(now - 5)
    summed = decoder.decode_bytes(b'[{"bn": "arr:", "n": "rain_total", "u": "mm", "s": 12.5}]',
                                  None)
    assert summed[0].values == {"rain_total": 12.5}
    relative = decoder.decode_bytes(b'[{"bn": "tide:", "n": "level", "t": -30, "v": 1}]',
                                    None)
    assert relative[0].timestamp == pytest.approx(time.time() - 30, abs=2)


@pytest.mark.parametrize(("pack", "reason"), [
    ([{"bn": "tide:", "n": "level", "u": "furlong", "v": 1}], "wrong_unit"),
    ([{"bn": "tide:", "n": "level", "u": ["m"], "v": 1}], "wrong_unit"),
    ([{"bn": "tide:", "n": "level", "vs": "1"}], "wrong_type"),
    ([{"n": "level", "v": 1}], "missing_sensor"),
    ([{"bn": "tide:", "n": "temperature", "v": 1}], "missing_field"),
    ({"bn": 5}, "wrong_type"),
    ([], "wrong_type"),
])
def test_senml_rejections(pack, reason):
    from sitroom_flood.payload import Rejected

    decoder = Decoder(MqttSensorsConfig.model_validate(
        {"kind": "mqtt_sensors", "name": "x", "sensors": sensors(), "topics": TOPICS}
    ).topics[2])
    with pytest.raises(Rejected) as caught:
        decoder.decode_bytes(json.dumps(pack).encode(), None)
    assert caught.value.reason == reason


def test_topic_routing_extracts_sensor_and_honours_wildcards():
    config = MqttSensorsConfig.model_validate(
        {"kind": "mqtt_sensors", "name": "x", "sensors": sensors(),
         "topics": [*TOPICS, {"topic": "kota/multi/#", "format": "json"}]})
    router = Router(config.topics)
    assert router.subscriptions() == ["kota/awlr/+", "kota/raw/+/level", "kota/senml",
                                      "kota/json", "kota/multi/#"]
    decoder, sensor = router.route("kota/awlr/bkb")
    assert sensor == "bkb" and decoder.mapping.format == "json"
    assert router.route("kota/raw/bkt/level")[1] == "bkt"
    assert router.route("kota/multi/a/b/c")[1] is None
    assert router.route("kota/multi")[0].mapping.topic == "kota/multi/#"
    for unmatched in ("kota/awlr", "kota/awlr/bkb/extra", "kota/raw/bkb", "lain/awlr/bkb"):
        assert router.route(unmatched) is None, unmatched


@pytest.mark.parametrize(("change", "message"), [
    ({"sensors": {"bkb": {"thresholds": {"waspada": 3, "siaga": 2, "awas": 4}}}},
     "waspada < siaga < awas"),
    ({"sensors": {"bad id!": {}}}, "must match"),
    ({"sensors": {}}, "at least 1"),
    ({"sensors": {"bkb": {"type": "seismometer"}}}, "water_level"),
    ({"sensors": {"bkb": {"treshold": 1}}}, "Extra inputs"),
    ({"topics": [{"topic": "a/+/level", "format": "number"}]}, "needs a {sensor}"),
    ({"topics": [{"topic": "a/#/b"}]}, "'#' may only be the last"),
    ({"topics": [{"topic": "a/{sensor}/{sensor}"}]}, "at most one"),
    ({"topics": [{"topic": "a/b", "fields": {"depth": "x"}}]}, "level"),
    ({"qos": 2}, "less than or equal to 1"),
])
def test_config_errors_are_clear(change, message):
    config = {"kind": "mqtt_sensors", "name": "x", "sensors": sensors(), "topics": TOPICS,
              **change}
    with pytest.raises(ValidationError) as caught:
        MqttSensorsConfig.model_validate(config)
    assert message in str(caught.value)


def test_protocol_may_be_written_as_a_number():
    config = {"kind": "mqtt_sensors", "name": "x", "sensors": sensors(), "topics": TOPICS,
              "protocol": 5}
    assert MqttSensorsConfig.model_validate(config).protocol == "5"


def test_http_config_refuses_bare_numbers():
    with pytest.raises(ValidationError, match="json or senml"):
        HttpSensorsConfig.model_validate(http_config(payload={"format": "number"}))


def test_shipped_sample_config_validates(tmp_path):
    import yaml

    from sitroom.testing import kinds_of

    sample = yaml.safe_load((Path(sitroom_flood.__file__).parent / "sample.yaml").read_text())
    (tmp_path / "pw").write_text("x\n")
    kinds = kinds_of(sitroom_flood)
    for source in sample["sources"]:
        if "password_file" in source:
            source["password_file"] = str(tmp_path / "pw")
        model = kinds[source["kind"]].config_model.model_validate(source)
        assert model.sensors


async def test_http_senml_packs_single_and_batched():
    config = http_config(payload={"format": "senml"})
    async with SourceHarness.from_plugin(sitroom_flood, config) as harness:
        harness.source.ingestor.start()
        now = time.time()
        pack = [{"bn": "bkb:", "bt": now - 20, "n": "level", "u": "m", "v": 3.1},
                {"n": "battery", "u": "%", "v": 90}]
        summary = harness.source.ingest_body(json.dumps(pack).encode(), "application/senml+json")
        assert summary["accepted"] == 1
        assert harness.value(m.WATER_LEVEL, sensor="bkb") == 3.1
        packs = [[{"bn": "bkt:", "n": "level", "v": 1.0}], [{"bn": "tide:", "n": "level",
                                                              "v": 1.2}]]
        summary = harness.source.ingest_body(json.dumps(packs).encode(), "application/json")
        assert summary["accepted"] == 2
        assert harness.value(m.ALERT_LEVEL, sensor="tide") == 2


async def test_standby_source_describes_only_sensors_it_hears_from():
    """describe: when_seen keeps a standby gateway from duplicating another source's series."""
    async with SourceHarness.from_plugin(sitroom_flood, http_config(describe="when_seen")) as h:
        h.source.ingestor.start()
        assert h.samples(m.INFO) == {}
        assert h.samples(m.THRESHOLD) == {}
        now = time.time()
        assert feed(h, {"sensor": "bkb", "level": 1.0, "ts": now - 1}, now=now) == 1
        assert {key[0] for key in h.samples(m.INFO)} == {"bkb"}
        assert {key[0] for key in h.samples(m.THRESHOLD)} == {"bkb"}


async def test_default_source_describes_every_configured_sensor(gateway):
    assert {key[0] for key in gateway.samples(m.INFO)} == set(sensors())
