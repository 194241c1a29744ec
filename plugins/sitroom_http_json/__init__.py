"""Generic HTTP JSON poller: map fields of any JSON API to declared metrics.

Like Prometheus' json_exporter, but each mapping declares a real metric family (name, help,
unit, labels) through `SourceKind.metrics_for`, so configured metrics get the same naming
checks, cardinality limit and `source` label as a plugin's own. Used for traffic-speed APIs,
BMKG-style weather and tide forecasts. The demo's traffic API simulator lives here too.
"""

from __future__ import annotations

from sitroom.api import SimulatorSpec, SourceKind, hookimpl
from sitroom_http_json.config import HttpJsonConfig, configured_specs
from sitroom_http_json.metrics import FIXED
from sitroom_http_json.source import HttpJsonSource


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind(
            name="http_json",
            config_model=HttpJsonConfig,
            factory=HttpJsonSource,
            metrics=FIXED,
            metrics_for=configured_specs,
            description="Polls a JSON API and maps its fields to configured metrics.",
        )
    ]


@hookimpl
def sitroom_simulators() -> list[SimulatorSpec]:
    from sitroom_http_json.traffic_sim import TrafficSimulatorConfig, run_traffic_api

    return [
        SimulatorSpec(
            name="traffic",
            config_model=TrafficSimulatorConfig,
            run=run_traffic_api,
            description="A Semarang traffic-speed API on loopback for the demo's http_json.",
        )
    ]
