"""sitroom-example-weather: an external sitroom plugin, kept in sitroom's repository as the
worked example of docs/plugins.md (which includes these files) and tested there by
installing it into a throwaway environment, loading it, running it in a daemon and removing
it again.

One polling kind (`weather_station`), a route, a simulator and a CLI command that exports the
alert rules, dashboard and runbook the package ships.
"""

from __future__ import annotations

import argparse

from sitroom.api import DaemonAPI, Route, SimulatorSpec, SourceKind, hookimpl
from sitroom_weather.config import WeatherConfig
from sitroom_weather.metrics import METRICS
from sitroom_weather.source import WeatherStation

__all__ = ["METRICS", "WeatherConfig", "WeatherStation"]


# --8<-- [start:hooks]
@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind(
            name="weather_station",
            config_model=WeatherConfig,
            factory=WeatherStation,
            metrics=METRICS,
            description="Rooftop weather stations read from an HTTP weather service.",
        )
    ]


@hookimpl
def sitroom_routes(daemon: DaemonAPI) -> list[Route]:
    from sitroom_weather.routes import weather_route

    return [weather_route(daemon)]


@hookimpl
def sitroom_simulators() -> list[SimulatorSpec]:
    from sitroom_weather.simulator import WeatherSimulatorConfig, run_weather_service

    return [
        SimulatorSpec(
            name="weather",
            config_model=WeatherSimulatorConfig,
            run=run_weather_service,
            description="A weather service on loopback with an outage switch.",
        )
    ]


@hookimpl
def sitroom_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from sitroom_weather.monitoring import export

    weather = subparsers.add_parser("weather", help="the weather plugin's own commands")
    commands = weather.add_subparsers(dest="weather_command", required=True)
    command = commands.add_parser(
        "export-monitoring", help="write its alert rules, rule tests, dashboard and runbook"
    )
    command.add_argument("directory")
    command.set_defaults(func=lambda args: export(args.directory))
# --8<-- [end:hooks]
