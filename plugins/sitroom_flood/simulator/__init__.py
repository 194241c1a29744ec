"""`sitroom simulate flood`: the demo city's flood and rain sensors as real network peers.

Over MQTT when a Mosquitto binary exists (it starts its own broker on a loopback port unless
told to use one), otherwise over HTTP ingest to the daemon (reading the daemon's token from
`token_file`). A small control API lets operators and tests pin a sensor to a value:

    POST /set?sensor=bkb-simongan&level=4.2      water level / tide, meters
    POST /set?sensor=arr-gunungpati&rain_rate=60 rain gauge, mm/h
    POST /clear[?sensor=ID]                      back to the simulation
    GET  /state                                  current values, pins, transport
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import aiomqtt
import structlog
from aiohttp import web
from pydantic import Field, field_validator

from sitroom.api import ConfigModel, ConfigPath, Duration
from sitroom_flood.simulator import broker, encode
from sitroom_flood.simulator.model import DEMO_NETWORK, Reading, Scenario

log = structlog.get_logger("sitroom.simulator.flood")


def _loopback(host: str) -> str:
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"simulators talk to loopback only, not {host!r}")


class FloodSimulatorConfig(ConfigModel):
    transport: Literal["auto", "mqtt", "http"] = "auto"
    interval: Duration = Field(default=5.0, gt=0, description="Each sensor reports this often.")
    time_scale: float = Field(default=30.0, gt=0, description="Simulated seconds per second.")
    seed: int = 7
    sensors: list[str] | None = Field(default=None, description="Subset of the demo network.")
    garbage_ratio: float = Field(default=0.01, ge=0, le=1)
    dropout_sensor: str | None = "babon-pucanggading"
    dropout_every: Duration = Field(default=2700.0, gt=0)
    dropout_for: Duration = Field(
        default=1080.0, ge=0,
        description="Silent this long each cycle: past stale_after and the 15-minute "
        "FloodSensorSilent rule, so the demo shows both.")
    # MQTT
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=18883, ge=1, le=65535)
    start_broker: bool = True
    mosquitto: str | None = None
    topic_prefix: str = "semarang/flood"
    # HTTP ingest
    daemon_url: str = "http://127.0.0.1:9750"
    http_source: str = "flood-gateway"
    token_file: ConfigPath | None = None
    # control API
    control_host: str = "127.0.0.1"
    control_port: int = Field(default=18880, ge=0, le=65535, description="0: no control API.")

    @field_validator("mqtt_host", "control_host")
    @classmethod
    def _hosts(cls, value: str) -> str:
        return _loopback(value)

    @field_validator("daemon_url")
    @classmethod
    def _url(cls, value: str) -> str:
        _loopback(urlsplit(value).hostname or "")
        return value.rstrip("/")

    @field_validator("sensors")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        known = {s.id for s in DEMO_NETWORK}
        for sensor in value or []:
            if sensor not in known:
                raise ValueError(f"unknown demo sensor {sensor!r}; known: {sorted(known)}")
        return value


class Publisher:
    """Sends readings over MQTT or HTTP; subclasses own the connection."""

    name = ""

    async def send(self, readings: list[Reading], junk: list[tuple[str, bytes]]) -> None:
        raise NotImplementedError


class MqttPublisher(Publisher):
    name = "mqtt"

    def __init__(self, config: FloodSimulatorConfig) -> None:
        self.config = config
        self.client: aiomqtt.Client | None = None

    async def send(self, readings: list[Reading], junk: list[tuple[str, bytes]]) -> None:
        if self.client is None:
            client = aiomqtt.Client(self.config.mqtt_host, self.config.mqtt_port,
                                    identifier=f"sitroom-flood-sim-{self.config.mqtt_port}")
            await client.__aenter__()
            self.client = client
        try:
            for reading in readings:
                topic, payload = encode.mqtt_message(reading, self.config.topic_prefix)
                await self.client.publish(topic, payload, qos=1)
            for topic, payload in junk:
                await self.client.publish(topic, payload, qos=1)
        except aiomqtt.MqttError:
            await self.close()
            raise

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.__aexit__(None, None, None)


class HttpPublisher(Publisher):
    name = "http"

    def __init__(self, config: FloodSimulatorConfig) -> None:
        self.config = config
        self.session: aiohttp.ClientSession | None = None
        self.url = f"{config.daemon_url}/api/v1/ingest/{config.http_source}"

    def _token(self) -> str:
        if self.config.token_file is None:
            return ""
        try:
            return self.config.token_file.read_text(encoding="utf-8").strip()
        except OSError:
            return ""  # the daemon may not have generated it yet

    async def send(self, readings: list[Reading], junk: list[tuple[str, bytes]]) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        lines = [json.dumps(encode.http_item(r)).encode() for r in readings]
        lines += [payload for _, payload in junk]
        headers = {"Authorization": f"Bearer {self._token()}",
                   "Content-Type": "application/x-ndjson"}
        async with self.session.post(self.url, data=b"\n".join(lines), headers=headers) as resp:
            if resp.status in (401, 403, 404):
                raise ConnectionError(f"daemon answered {resp.status} for {self.url}")

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


class FloodSimulator:
    """The scenario, its publisher and the control API under one lifetime."""

    def __init__(self, config: FloodSimulatorConfig) -> None:
        self.config = config
        wanted = set(config.sensors or [s.id for s in DEMO_NETWORK])
        sensors = tuple(s for s in DEMO_NETWORK if s.id in wanted)
        self.scenario = Scenario(sensors, time_scale=config.time_scale, seed=config.seed)
        self.rng = random.Random(config.seed + 1)
        self.wake = asyncio.Event()
        self.started = time.time()
        self.last_sent: dict[str, float] = {}
        self.last_values: dict[str, dict[str, Any]] = {}
        self.transport = ""
        self.sent = 0

    def silent(self, sensor_id: str, now: float) -> bool:
        config = self.config
        if sensor_id != config.dropout_sensor or config.dropout_for <= 0:
            return False
        phase = (now - self.started) % config.dropout_every
        return phase >= config.dropout_every - config.dropout_for

    def tick(self, now: float) -> tuple[list[Reading], list[tuple[str, bytes]]]:
        readings = []
        for sensor in self.scenario.sensors:
            if self.silent(sensor.id, now) and sensor.id not in self.scenario.overrides:
                continue
            since = self.last_sent.get(sensor.id, now - self.config.interval)
            reading = self.scenario.read(sensor, now, since)
            self.last_sent[sensor.id] = now
            self.last_values[sensor.id] = {"level": reading.level,
                                           "rain_rate": reading.rain_rate, "at": now}
            readings.append(reading)
        junk: list[tuple[str, bytes]] = []
        if readings and self.rng.random() < self.config.garbage_ratio * len(readings):
            target = self.rng.choice(readings).sensor.id
            if self.transport == "http":
                junk.append(("", encode.http_garbage(self.rng, target, now)))
            else:
                junk.append(encode.garbage(self.rng, self.config.topic_prefix, target, now))
        return readings, junk

    async def publish_loop(self, publisher: Publisher) -> None:
        last = time.monotonic()
        failing = False
        while True:
            now_mono = time.monotonic()
            self.scenario.advance(now_mono - last)
            last = now_mono
            self.wake.clear()  # before reading: a control call during the send wakes us again
            readings, junk = self.tick(time.time())
            try:
                await publisher.send(readings, junk)
            except (OSError, aiomqtt.MqttError, aiohttp.ClientError) as exc:
                if not failing:
                    log.warning("flood_simulator_send_failed", transport=publisher.name,
                                error=str(exc))
                failing = True
            else:
                if failing:
                    log.info("flood_simulator_send_recovered", transport=publisher.name)
                failing = False
                self.sent += len(readings)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.config.interval)

    # -- control API ------------------------------------------------------------------------

    def control_app(self) -> web.Application:
        async def set_value(request: web.Request) -> web.Response:
            sensor_id = request.query.get("sensor", "")
            sensor = self.scenario.by_id.get(sensor_id)
            if sensor is None:
                return web.json_response({"error": f"unknown sensor {sensor_id!r}"}, status=404)
            key = "rain_rate" if sensor.kind == "rain_gauge" else "level"
            raw = request.query.get(key, request.query.get("value"))
            try:
                value = float(raw) if raw is not None else float("nan")
            except ValueError:
                value = float("nan")
            if value != value or value in (float("inf"), float("-inf")):
                return web.json_response({"error": f"give {key}=<number>"}, status=400)
            self.scenario.overrides[sensor_id] = value
            self.wake.set()
            return web.json_response({"sensor": sensor_id, key: value, "pinned": True})

        async def clear(request: web.Request) -> web.Response:
            sensor_id = request.query.get("sensor")
            if sensor_id is None:
                self.scenario.overrides.clear()
            else:
                self.scenario.overrides.pop(sensor_id, None)
            self.wake.set()
            return web.json_response({"cleared": sensor_id or "all"})

        async def state(request: web.Request) -> web.Response:
            return web.json_response({
                "transport": self.transport,
                "sent": self.sent,
                "pinned": self.scenario.overrides,
                "sensors": self.last_values,
            })

        app = web.Application()
        app.router.add_post("/set", set_value)
        app.router.add_post("/clear", clear)
        app.router.add_get("/state", state)
        return app


async def run_flood_simulator(config: FloodSimulatorConfig) -> None:
    simulator = FloodSimulator(config)
    runner: web.AppRunner | None = None
    process: asyncio.subprocess.Process | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    publisher: Publisher
    try:
        if config.control_port:
            runner = web.AppRunner(simulator.control_app(), access_log=None,
                                   handle_signals=False)
            await runner.setup()
            await web.TCPSite(runner, config.control_host, config.control_port).start()
        transport = config.transport
        binary = broker.find_mosquitto(config.mosquitto)
        if transport == "auto":
            transport = "mqtt" if (binary or not config.start_broker) else "http"
        if transport == "mqtt" and config.start_broker:
            if binary is None:
                raise RuntimeError("transport mqtt needs mosquitto (or start_broker: false)")
            tmp = tempfile.TemporaryDirectory(prefix="sitroom-flood-sim-")
            conf = broker.write_config(Path(tmp.name), config.mqtt_port)
            try:
                process = await broker.start(binary, conf, config.mqtt_port)
            except (RuntimeError, TimeoutError, OSError) as exc:
                if config.transport == "mqtt":
                    raise
                log.warning("flood_simulator_broker_failed", error=str(exc), fallback="http")
                transport = "http"
        simulator.transport = transport
        publisher = MqttPublisher(config) if transport == "mqtt" else HttpPublisher(config)
        log.info("flood_simulator_started", transport=transport,
                 sensors=len(simulator.scenario.sensors), control_port=config.control_port,
                 mqtt_port=config.mqtt_port if transport == "mqtt" else None)
        try:
            await simulator.publish_loop(publisher)
        finally:
            await publisher.close()
    finally:
        if runner is not None:
            await runner.cleanup()
        if process is not None:
            await broker.stop(process)
        if tmp is not None:
            tmp.cleanup()
