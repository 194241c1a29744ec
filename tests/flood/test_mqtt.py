"""mqtt_sensors against a real Mosquitto: readings, alerts, bad input, broker restarts.

Marked integration: each test starts its own broker on a free loopback port.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import pytest

from sitroom.metrics.exposition import render
from sitroom_flood import metrics as m
from tests.support import require_tool

from .conftest import mqtt_config, promtool_check, publish, supervised

pytestmark = pytest.mark.integration


def awlr(level_m: float, at: float | None = None, **extra: float) -> bytes:
    body = {"level_cm": round(level_m * 100, 3), **extra}
    if at is not None:
        body["ts"] = at
    return json.dumps(body).encode()


async def test_readings_arrive_as_metrics_and_alerts_follow(mosquitto):
    async with supervised(mqtt_config(mosquitto.port)) as src:
        await src.until(lambda: src.state == "ok", what="connected")
        now = time.time()
        await asyncio.to_thread(publish, mosquitto.port, [
            ("kota/awlr/bkb", awlr(4.2, now - 1, batt=0.7, rssi=-80)),
            ("kota/raw/bkt/level", b"3.6"),  # + datum offset 0.5 = 4.1: Awas
            ("kota/senml", json.dumps([{"bn": "tide:", "n": "level", "u": "m", "v": 1.15},
                                       {"n": "battery", "u": "%EL", "v": 55}])),
            ("kota/json", json.dumps({"sensor": "arr", "rain_rate": 12.5})),
        ])
        await src.until(lambda: src.value(m.RAIN_RATE, sensor="arr") is not None,
                        what="all four readings")
        assert src.value(m.WATER_LEVEL, sensor="bkb") == pytest.approx(4.2)
        assert src.value(m.ALERT_LEVEL, sensor="bkb") == 2
        assert src.value(m.BATTERY_RATIO, sensor="bkb") == 0.7
        assert src.value(m.WATER_LEVEL, sensor="bkt") == pytest.approx(4.1)
        assert src.value(m.ALERT_LEVEL, sensor="bkt") == 3
        assert src.value(m.WATER_LEVEL, sensor="tide") == 1.15
        assert src.value(m.ALERT_LEVEL, sensor="tide") == 2
        assert src.value(m.ALERT_LEVEL, sensor="arr") == 1
        assert src.value(m.BATTERY_RATIO, sensor="tide") == pytest.approx(0.55)
        # the river falls: the alert follows it down
        await asyncio.to_thread(publish, mosquitto.port,
                                [("kota/awlr/bkb", awlr(2.0, time.time()))])
        await src.until(lambda: src.value(m.ALERT_LEVEL, sensor="bkb") == 0, what="normal")
        assert promtool_check(render(src.store)) == ""


async def test_bad_input_is_counted_and_never_breaks_the_connection(mosquitto):
    config = mqtt_config(mosquitto.port, max_payload_bytes=4096)
    async with supervised(config) as src:
        await src.until(lambda: src.state == "ok", what="connected")
        now = time.time()
        await asyncio.to_thread(publish, mosquitto.port, [
            ("kota/awlr/bkb", b'{"level_cm": 12'),
            ("kota/awlr/bkb", b'{"level_cm": NaN}'),
            ("kota/awlr/bkb", b'{"level_cm": Infinity}'),
            ("kota/awlr/bkb", b'{"level_cm": "12"}'),
            ("kota/awlr/bkb", awlr(1.0, now + 86400)),
            ("kota/awlr/bkb", b'{"level_cm": 100, "pad": "' + b"x" * 5000 + b'"}'),
            ("kota/awlr/hantu", awlr(1.0)),
            ("kota/raw/bkt/level", b"\xff\xfe"),
            ("kota/raw/bkt/level", b"nan"),
            ("kota/senml", b'[{"bn": "tide:", "n": "level", "v": "high"}]'),
            ("kota/json", b'{"sensor": "arr", "rain_rate": -5}'),
            ("kota/json", b"[" * 1500 + b"]" * 1500),  # deeper than the JSON parser goes
            ("kota/json", b"{}" * 2000),
            ("kota/json", b" " * 5000),
            ("kota/awlr/bkt", awlr(1.0)),  # the one good message, last
        ])
        await src.until(lambda: src.value(m.WATER_LEVEL, sensor="bkt") is not None,
                        what="the good reading after the garbage")
        reasons = {labels: value for labels, value in src.metrics.samples(m.REJECTED).items()}
        assert reasons == {
            ("bkb", "malformed"): 1, ("bkb", "not_finite"): 2, ("bkb", "wrong_type"): 1,
            ("bkb", "future_timestamp"): 1, ("bkb", "too_large"): 1,
            ("", "unknown_sensor"): 1, ("bkt", "malformed"): 1, ("bkt", "not_finite"): 1,
            ("tide", "wrong_type"): 1, ("arr", "out_of_range"): 1, ("", "malformed"): 2,
            ("", "too_large"): 1,
        }
        assert src.value(m.WATER_LEVEL, sensor="bkb") is None
        assert src.value(m.WATER_LEVEL, sensor="bkt") == pytest.approx(1.5)
        assert src.state == "ok" and src.restarts() == 0
        assert "hantu" not in render(src.store)


async def test_broker_restart_loses_nothing_and_source_reconnects(mosquitto):
    """QoS 1 + persistent session + broker persistence: messages published while the
    source is disconnected after a broker restart are delivered once it reconnects."""
    async with supervised(mqtt_config(mosquitto.port)) as src:
        await src.until(lambda: src.state == "ok", what="connected")
        start = time.time() - 100
        levels = [1.0 + 0.1 * i for i in range(12)]
        first = [("kota/awlr/bkb", awlr(lv, start + 5 * i)) for i, lv in enumerate(levels[:6])]
        await asyncio.to_thread(publish, mosquitto.port, first)
        await src.until(lambda: src.value(m.RECEIVED, sensor="bkb") == 6, what="first half")

        await asyncio.to_thread(mosquitto.stop)
        await src.until(lambda: src.state == "failing", what="disconnect noticed")
        mosquitto.start()
        # blocking publish: the event loop (and so the source) is frozen while the
        # restarted broker queues these for our persistent session
        publish(mosquitto.port, [("kota/awlr/bkb", awlr(lv, start + 5 * (6 + i)))
                                 for i, lv in enumerate(levels[6:])])

        await src.until(lambda: src.value(m.WATER_LEVEL, sensor="bkb") == pytest.approx(
            levels[-1]), within=20, what="queued messages redelivered")
        received = src.value(m.RECEIVED, sensor="bkb")
        duplicates = src.value(m.REJECTED, sensor="bkb", reason="duplicate") or 0
        assert received - duplicates == len(levels)
        await src.until(lambda: src.state == "ok", what="up again")
        assert src.restarts() >= 1
        assert src.value(m.RATE_OF_RISE, sensor="bkb") == pytest.approx(0.1 / 5, rel=0.05)


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_persistent_session_keeps_messages_while_the_daemon_is_away(mosquitto, protocol):
    config = mqtt_config(mosquitto.port, name=f"away{protocol.replace('.', '')}",
                         protocol=protocol)
    async with supervised(config) as src:
        await src.until(lambda: src.state == "ok", what="first connect")
    # the source is gone (daemon restart); a sensor keeps reporting
    now = time.time()
    await asyncio.to_thread(publish, mosquitto.port,
                            [("kota/awlr/bkb", awlr(2.0 + i / 10, now - 30 + i)) for i in range(3)])
    async with supervised(config) as src:
        await src.until(lambda: src.value(m.RECEIVED, sensor="bkb") == 3, what="queued three")
        assert src.value(m.WATER_LEVEL, sensor="bkb") == pytest.approx(2.2)


@pytest.fixture
def passwd(tmp_path):
    path = tmp_path / "passwd"
    subprocess.run([require_tool("mosquitto_passwd"), "-b", "-c", str(path), "sitroom",
                    "rahasia-77"], check=True, capture_output=True)
    return path


async def test_credentials_are_checked_and_never_leak(mosquitto_factory, passwd, tmp_path):
    server = mosquitto_factory(persistence=False, extra=[
        "allow_anonymous false", f"password_file {passwd}"])
    config_text = server.config.read_text().replace("allow_anonymous true\n", "")
    server.config.write_text(config_text)
    server.start()
    (tmp_path / "mqtt-pw").write_text("salah-sekali\n")
    bad = mqtt_config(server.port, name="badpw", username="sitroom",
                      password_file=str(tmp_path / "mqtt-pw"))
    async with supervised(bad) as src:
        await src.until(lambda: src.ctx.status.last_error_reason == "auth", what="auth error")
        assert "salah-sekali" not in (src.ctx.status.last_error or "")
    (tmp_path / "mqtt-pw").write_text("rahasia-77\n")
    good = mqtt_config(server.port, name="goodpw", username="sitroom",
                       password_file=str(tmp_path / "mqtt-pw"))
    async with supervised(good) as src:
        await src.until(lambda: src.state == "ok", what="authenticated")
        await asyncio.to_thread(publish, server.port, [("kota/awlr/bkb", awlr(1.25))],
                                username="sitroom", password="rahasia-77")
        await src.until(lambda: src.value(m.WATER_LEVEL, sensor="bkb") == 1.25, what="value")


@pytest.fixture
def tls_files(tmp_path):
    """A throwaway CA and a server certificate for 127.0.0.1 (EC keys: fast to make)."""
    openssl = require_tool("openssl")
    d = tmp_path / "tls"
    d.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
        "-subj", "/CN=sitroom test CA")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.ext")
    run("req", "-x509", *ec, "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "1",
        "-subj", "/CN=someone else")
    return d


async def test_tls_with_the_right_ca_and_refusal_with_a_wrong_one(mosquitto_factory, tls_files):
    server = mosquitto_factory(persistence=False, extra=[
        f"cafile {tls_files / 'ca.crt'}", f"certfile {tls_files / 'server.crt'}",
        f"keyfile {tls_files / 'server.key'}"])
    server.start()
    wrong = mqtt_config(server.port, name="wrongca",
                        tls={"ca_file": str(tls_files / "other-ca.crt")})
    async with supervised(wrong) as src:
        await src.until(lambda: src.ctx.status.last_error_reason == "tls", what="tls error")
    right = mqtt_config(server.port, name="rightca", tls={"ca_file": str(tls_files / "ca.crt")})
    async with supervised(right) as src:
        await src.until(lambda: src.state == "ok", what="TLS connection")
        await asyncio.to_thread(publish, server.port, [("kota/awlr/bkb", awlr(2.5))],
                                ca_file=str(tls_files / "ca.crt"))
        await src.until(lambda: src.value(m.WATER_LEVEL, sensor="bkb") == 2.5, what="value")


async def test_retained_values_count_only_with_a_timestamp(mosquitto):
    """A broker replays retained messages on subscribe: without a timestamp their age is
    unknown, and a dead sensor's retained "normal" must not pass for a live reading."""
    now = time.time()
    await asyncio.to_thread(publish, mosquitto.port, [
        ("kota/awlr/bkb", awlr(1.0)), ("kota/awlr/bkt", awlr(1.0, now - 30))], retain=True)
    async with supervised(mqtt_config(mosquitto.port, name="retained")) as src:
        await src.until(lambda: src.value(m.RECEIVED, sensor="bkb") == 1
                        and src.value(m.RECEIVED, sensor="bkt") == 1, what="retained replay")
        assert src.value(m.REJECTED, sensor="bkb", reason="retained_untimed") == 1
        assert src.value(m.WATER_LEVEL, sensor="bkb") is None
        assert src.value(m.WATER_LEVEL, sensor="bkt") == 1.5
        await asyncio.to_thread(publish, mosquitto.port, [("kota/awlr/bkb", awlr(1.2))])
        await src.until(lambda: src.value(m.WATER_LEVEL, sensor="bkb") == 1.2, what="live")
