"""Pump stations (rumah pompa) over Modbus TCP, and a pump-house simulator.

Semarang's low districts stay dry only while the pump houses run; their PLCs, drives and
gateways speak Modbus. This plugin contributes the `modbus_pump_station` source kind (one
source per station endpoint, register maps from reusable profiles) and the `pumps`
simulator that the demo city and the tests poll. See README.md.
"""

from __future__ import annotations

from sitroom.api import SimulatorSpec, SourceKind, hookimpl


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    from sitroom_pumps.config import PumpStationConfig, configured_specs
    from sitroom_pumps.events import EVENTS
    from sitroom_pumps.metrics import METRICS
    from sitroom_pumps.source import PumpStation

    return [
        SourceKind(
            name="modbus_pump_station",
            config_model=PumpStationConfig,
            factory=PumpStation,
            metrics=METRICS,
            metrics_for=configured_specs,
            events=EVENTS,
            description="A pump station's PLC/drives over Modbus TCP, via register maps.",
        )
    ]


@hookimpl
def sitroom_simulators() -> list[SimulatorSpec]:
    from sitroom_pumps.simulator import PumpSimulatorConfig, run_pump_simulator

    return [
        SimulatorSpec(
            name="pumps",
            config_model=PumpSimulatorConfig,
            run=run_pump_simulator,
            description="Pump houses on loopback: Modbus TCP servers with sump physics, "
            "and an HTTP control endpoint to fault pumps, cut power and make rain.",
        )
    ]
