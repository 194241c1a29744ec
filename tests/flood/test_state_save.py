"""Last-seen persistence: debounced, written off the receive path, always flushed on stop."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import sitroom_flood
import sitroom_flood.ingest as ingest
from sitroom.testing import SourceHarness

from .test_pipeline import feed, http_config


def state_file(root: Path) -> Path:
    return root / "http_sensors" / "gw.last_seen.json"


async def test_a_burst_is_not_written_per_message_but_is_saved_on_stop(tmp_path: Path) -> None:
    path = state_file(tmp_path)
    now = time.time()
    async with SourceHarness.from_plugin(sitroom_flood, http_config(),
                                         state_dir=tmp_path) as h:
        h.source.ingestor.start()
        for i in range(300):
            assert feed(h, {"sensor": "bkb", "level": 1.0, "ts": now - 300 + i}, now=now) == 1
        feed(h, {"sensor": "bkt", "level": 0.5, "ts": now - 10}, now=now)
        assert not path.exists()  # within the save interval: no write at all yet
    saved = json.loads(path.read_text())
    assert saved == {"bkb": pytest.approx(now - 1), "bkt": pytest.approx(now - 10)}
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


async def test_due_save_runs_in_the_background_not_in_the_callback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "SAVE_EVERY", 0.0)  # every accepted batch is "due"
    path = state_file(tmp_path)
    now = time.time()
    async with SourceHarness.from_plugin(sitroom_flood, http_config(),
                                         state_dir=tmp_path) as h:
        h.source.ingestor.start()
        feed(h, {"sensor": "bkb", "level": 2.0, "ts": now - 5}, now=now)
        # the synchronous ingest call (what the MQTT callback runs) returned without writing
        assert not path.exists()
        await h.wait_for(path.exists, within=10)
        assert json.loads(path.read_text()) == {"bkb": pytest.approx(now - 5)}
        feed(h, {"sensor": "bkb", "level": 2.1, "ts": now - 1}, now=now)
    # whatever was pending when the source stopped is on disk
    assert json.loads(path.read_text()) == {"bkb": pytest.approx(now - 1)}
