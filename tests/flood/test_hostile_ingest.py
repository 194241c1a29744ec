"""Hostile HTTP ingest bodies (issue 16): an integer too large for a float gave 500, and a
batch `[A, poison, B]` stored A, dropped B and answered 500 for neither."""

from __future__ import annotations

import json
import time

import pytest
from structlog.testing import capture_logs

import sitroom_flood
from sitroom.testing import SourceHarness
from sitroom_flood import metrics as m

from .conftest import sensors

HUGE = 10**400  # json.loads gives an int; float() of it raises OverflowError


@pytest.fixture
async def gateway():
    config = {"kind": "http_sensors", "name": "gw", "sensors": sensors()}
    async with SourceHarness.from_plugin(sitroom_flood, config) as harness:
        harness.source.ingestor.start()
        yield harness


@pytest.mark.parametrize("item", [
    {"sensor": "bkb", "level": HUGE},
    {"sensor": "bkb", "level": -HUGE},
    {"sensor": "bkb", "level": 1.0, "ts": HUGE},
    {"sensor": "bkb", "level": 1.0, "battery": HUGE},
])
async def test_huge_integers_are_rejected_not_crashes(gateway, item):
    summary = gateway.source.ingest_body(json.dumps(item).encode(), "application/json")
    assert summary["accepted"] == 0 and summary["rejected"] == 1
    assert set(summary["reasons"]) <= {"not_finite", "bad_timestamp"}
    assert gateway.value(m.WATER_LEVEL, sensor="bkb") is None


async def test_senml_huge_integers_are_rejected():
    config = {"kind": "http_sensors", "name": "gw", "sensors": sensors(),
              "payload": {"format": "senml"}}
    async with SourceHarness.from_plugin(sitroom_flood, config) as harness:
        harness.source.ingestor.start()
        for record in ({"bn": "bkb", "n": "level", "v": HUGE},
                       {"bn": "bkb", "n": "level", "v": 1, "bt": HUGE},
                       {"bn": "bkb", "n": "level", "v": 1, "t": -HUGE}):
            summary = harness.source.ingest_body(json.dumps([record]).encode(),
                                                 "application/senml+json")
            assert summary["accepted"] == 0 and summary["rejected"] == 1, (record, summary)


async def test_a_poisoned_batch_answers_per_item_and_matches_what_was_stored(gateway):
    now = time.time()
    batch = [{"sensor": "bkb", "level": 1.1, "ts": now - 3},
             {"sensor": "bkb", "level": HUGE, "ts": now - 2},
             {"sensor": "bkt", "level": 1.2, "ts": now - 1}]
    summary = gateway.source.ingest_body(json.dumps(batch).encode(), "application/json")
    assert summary["accepted"] == 2 and summary["rejected"] == 1
    assert [item["accepted"] for item in summary["items"]] == [1, 0, 1]
    assert summary["items"][1]["reasons"] == {"not_finite": 1}
    assert gateway.value(m.WATER_LEVEL, sensor="bkb") == 1.1
    assert gateway.value(m.WATER_LEVEL, sensor="bkt") == 1.7  # datum_offset 0.5


async def test_an_unexpected_failure_in_one_item_is_counted_and_the_rest_stored(
        gateway, monkeypatch):
    ingestor = gateway.source.ingestor
    original = ingestor._accept

    def explode_on_bkt(sensor_id, reading, now):
        if sensor_id == "bkt":
            raise RuntimeError(f"bug with {reading.values}")
        return original(sensor_id, reading, now)

    monkeypatch.setattr(ingestor, "_accept", explode_on_bkt)
    now = time.time()
    batch = [{"sensor": "bkt", "level": 9.87654, "ts": now - 3},
             {"sensor": "bkb", "level": 1.5, "ts": now - 2},
             {"sensor": "bkt", "level": 9.87654, "ts": now - 1}]
    with capture_logs() as events:
        summary = gateway.source.ingest_body(json.dumps(batch).encode(), "application/json")
    assert [item["accepted"] for item in summary["items"]] == [0, 1, 0]
    assert summary["reasons"] == {"internal": 2}
    assert gateway.value(m.REJECTED, sensor="bkt", reason="internal") == 2
    assert gateway.value(m.WATER_LEVEL, sensor="bkb") == 1.5
    rejected_logs = [e for e in events if e["event"] == "flood_message_rejected"]
    assert len(rejected_logs) == 1 and rejected_logs[0]["reason"] == "internal"
    assert "9.87654" not in repr(events) and "exc_info" not in rejected_logs[0]
