"""Flood and rain sensors on Semarang's rivers, canals and coast, over MQTT or HTTP ingest.

Two push kinds share one ingest pipeline (`ingest.py`): `mqtt_sensors` subscribes to a
broker, `http_sensors` takes POSTs from gateways without MQTT. Both turn payloads into water
level, rate of rise, rain, battery and signal series per configured sensor, and an alert
level (Normal / Waspada / Siaga / Awas) from each sensor's own thresholds. The `flood`
simulator plays rain storms, rising rivers and the tide for the demo and the tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitroom.api import Route, SimulatorSpec, SourceKind, hookimpl
from sitroom_flood.config import HttpSensorsConfig, MqttSensorsConfig
from sitroom_flood.events import EVENTS
from sitroom_flood.metrics import METRICS

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI


def _mqtt_factory(config, ctx):
    from sitroom_flood.mqtt import MqttSensors

    return MqttSensors(config, ctx)


def _http_factory(config, ctx):
    from sitroom_flood.http_ingest import HttpSensors

    return HttpSensors(config, ctx)


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind(
            name="mqtt_sensors",
            config_model=MqttSensorsConfig,
            factory=_mqtt_factory,
            metrics=METRICS,
            events=EVENTS,
            description="Flood/rain sensors over MQTT (QoS 1, persistent session).",
            push=True,
        ),
        SourceKind(
            name="http_sensors",
            config_model=HttpSensorsConfig,
            factory=_http_factory,
            metrics=METRICS,
            events=EVENTS,
            description="Flood/rain sensors POSTed by gateways to /api/v1/ingest/{source}.",
            push=True,
        ),
    ]


@hookimpl
def sitroom_routes(daemon: DaemonAPI) -> list[Route]:
    from sitroom_flood.http_ingest import ingest_route

    return [ingest_route(daemon)]


@hookimpl
def sitroom_simulators() -> list[SimulatorSpec]:
    from sitroom_flood.simulator import FloodSimulatorConfig, run_flood_simulator

    return [
        SimulatorSpec(
            name="flood",
            config_model=FloodSimulatorConfig,
            run=run_flood_simulator,
            description="Rain storms, rivers rising and falling, the tide, over MQTT or HTTP.",
        )
    ]
