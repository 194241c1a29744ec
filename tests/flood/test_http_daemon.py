"""HTTP ingest through a real daemon subprocess: tokens, batches, bounds, clean metrics.

The flood simulator runs in the test's event loop in HTTP mode against the same daemon,
which is how the demo city works on a machine without Mosquitto.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
import yaml

from sitroom_flood.simulator import FloodSimulatorConfig, run_flood_simulator
from tests.support import DaemonProcess, free_port, http_post, sample_value

from .conftest import promtool_check, sensors

pytestmark = pytest.mark.integration
TOKEN = "flood-test-token-8f2a"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory):
    """One daemon for the module (start-up loads every plugin: seconds); tests use
    different sources so they do not see each other's data."""
    tmp_path = tmp_path_factory.mktemp("flood-daemon")
    config_dir = tmp_path / "conf.d"
    config_dir.mkdir()
    (tmp_path / "token").write_text(TOKEN + "\n")
    demo = yaml.safe_load((Path(__file__).parents[2] / "conf.d" / "40-flood.yaml").read_text())
    demo_sensors = next(s for s in demo["sources"] if s["kind"] == "http_sensors")["sensors"]
    doc = {
        "daemon": {"state_dir": str(tmp_path / "state"),
                   "auth": {"token_file": str(tmp_path / "token")}},
        "sources": [
            {"kind": "http_sensors", "name": "gateway", "sensors": sensors(),
             "max_body_bytes": 4096},
            {"kind": "http_sensors", "name": "flood-gateway", "sensors": demo_sensors},
        ],
    }
    (config_dir / "sitroom.yaml").write_text(yaml.safe_dump(doc))
    with DaemonProcess(config_dir) as process:
        process.wait_ready()
        yield process


def test_ingest_needs_the_token_and_bounds_the_body(daemon):
    url = f"{daemon.url}/api/v1/ingest/gateway"
    body = {"sensor": "bkb", "level": 5.1, "battery": 0.66, "ts": time.time()}
    assert http_post(url, body)[0] == 401
    assert http_post(url, body, headers={"Authorization": "Bearer nope"})[0] == 401
    assert http_post(url, body, headers={"Authorization": f"Basic {TOKEN}"})[0] == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, text = http_post(url, body, headers=auth)
    assert status == 200, text
    assert json.loads(text) == {"accepted": 1, "rejected": 0, "reasons": {},
                                "items": [{"accepted": 1}]}

    lines = b"\n".join([b'{"sensor": "bkt", "level": 1.0}', b'{"sensor": "hantu", "level": 1}',
                        b'{"sensor": "bkt", "level": "x"}'])
    status, text = http_post(url, lines, headers={**auth, "Content-Type": "application/x-ndjson"})
    assert status == 200
    assert json.loads(text)["reasons"] == {"unknown_sensor": 1, "wrong_type": 1}
    status, text = http_post(url, b"{not json", headers=auth)
    assert status == 422 and json.loads(text)["reasons"] == {"malformed": 1}
    assert http_post(url, b"[" + b" " * 5000 + b"]", headers=auth)[0] == 413
    assert http_post(f"{daemon.url}/api/v1/ingest/nope", body, headers=auth)[0] == 404

    text = daemon.metrics()
    value = sample_value
    assert value(text, "sitroom_flood_water_level_meters", source="gateway", sensor="bkb") == 5.1
    assert value(text, "sitroom_flood_alert_level", source="gateway", sensor="bkb") == 3
    assert value(text, "sitroom_flood_water_level_meters", source="gateway", sensor="bkt") == 1.5
    assert value(text, "sitroom_flood_messages_rejected_total", source="gateway", sensor="",
                 reason="too_large") == 1
    assert value(text, "sitroom_flood_messages_received_total", source="gateway",
                 sensor="bkt") == 2
    assert TOKEN not in text and "hantu" not in text
    assert promtool_check(text) == ""


async def test_simulator_over_http_ingest_with_control_api(daemon):
    """Without Mosquitto the simulator POSTs to the daemon; /set pins a river."""
    token_file = Path(daemon.args[daemon.args.index("--config-dir") + 1]).parent / "token"
    control = free_port()
    config = FloodSimulatorConfig.model_validate({
        "transport": "http", "daemon_url": daemon.url, "token_file": str(token_file),
        "http_source": "flood-gateway", "interval": "200ms", "control_port": control,
        "garbage_ratio": 0.0, "dropout_sensor": None,
    })
    task = asyncio.create_task(run_flood_simulator(config))
    try:
        def level(text: str, sensor: str, name: str = "water_level_meters") -> float | None:
            return sample_value(text, f"sitroom_flood_{name}", source="flood-gateway",
                                sensor=sensor)

        async def until(predicate, what):
            for _ in range(200):
                text = await asyncio.to_thread(daemon.metrics)
                if predicate(text):
                    return text
                assert not task.done(), task.exception()
                await asyncio.sleep(0.1)
            raise AssertionError(f"timed out: {what}")

        text = await until(lambda t: level(t, "bkb-simongan") is not None
                           and level(t, "arr-gunungpati", "rain_rate_meters_per_second")
                           is not None, "simulated data")
        assert level(text, "bkb-simongan", "alert_level") == 0
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{control}/set",
                                    params={"sensor": "bkb-simongan", "level": "5.6"}) as resp:
                assert resp.status == 200
            async with session.post(f"http://127.0.0.1:{control}/set",
                                    params={"sensor": "nope", "level": "1"}) as resp:
                assert resp.status == 404
            async with session.post(f"http://127.0.0.1:{control}/set",
                                    params={"sensor": "bkb-simongan", "level": "nan"}) as resp:
                assert resp.status == 400
        text = await until(lambda t: level(t, "bkb-simongan", "alert_level") == 3, "Awas")
        assert level(text, "bkb-simongan") == 5.6
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{control}/clear") as resp:
            assert resp.status == 200
        await until(lambda t: level(t, "bkb-simongan", "alert_level") == 0, "back to Normal")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert daemon.proc.poll() is None
