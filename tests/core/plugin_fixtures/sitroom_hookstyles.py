"""Plugins that use what pluggy allows, and plugins that fail in each hook, for core tests.

Each class is registered as one plugin (an instance), so a test picks the mix it needs.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from sitroom.api import (
    ConfigModel,
    DaemonAPI,
    PollingSource,
    Route,
    SimulatorSpec,
    SourceConfig,
    SourceKind,
    hookimpl,
)


class PlainConfig(SourceConfig):
    pass


class SimConfig(ConfigModel):
    pass


class Idle(PollingSource):
    async def collect(self) -> None:
        return None


def kind(name: str) -> SourceKind:
    return SourceKind(name, PlainConfig, Idle, ())


async def ok_handler(request: web.Request) -> web.Response:
    return web.Response(text=request.path)


async def run_nothing(config: object) -> None:
    return None


class Calls:
    """Where the plugins below record what the core called, in order."""

    log: list[str] = []


class FewerArguments:
    """Routes and startup implemented without the `daemon` argument the specs offer."""

    @hookimpl
    def sitroom_source_kinds(self) -> list[SourceKind]:
        return [kind("fewer")]

    @hookimpl
    def sitroom_routes(self) -> list[Route]:
        return [Route("GET", "/api/v1/fewer", ok_handler, auth=False)]

    @hookimpl
    def sitroom_startup(self) -> None:
        Calls.log.append("fewer:startup")


class SpecName:
    """Hooks under names of the plugin's own choosing (`specname=`)."""

    @hookimpl(specname="sitroom_source_kinds")
    def provide_kinds(self) -> list[SourceKind]:
        return [kind("named")]

    @hookimpl(specname="sitroom_routes")
    def provide_routes(self, daemon: DaemonAPI) -> list[Route]:
        return [Route("GET", "/api/v1/named", ok_handler, auth=False)]

    @hookimpl(specname="sitroom_cli")
    def provide_cli(self, subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
        subparsers.add_parser("named").set_defaults(func=lambda args: 7)


class Ordinary:
    @hookimpl
    def sitroom_source_kinds(self) -> list[SourceKind]:
        return [kind("contested"), kind("ordinary")]

    @hookimpl
    async def sitroom_startup(self, daemon: DaemonAPI) -> None:
        Calls.log.append("ordinary:startup")


class First:
    """Registered last in the tests, yet `tryfirst` puts it ahead of every other plugin."""

    @hookimpl(tryfirst=True)
    def sitroom_source_kinds(self) -> list[SourceKind]:
        return [kind("contested")]

    @hookimpl(tryfirst=True)
    async def sitroom_startup(self, daemon: DaemonAPI) -> None:
        Calls.log.append("first:startup")


class RaisesInKinds:
    """Its registration fails, so its routes, startup and CLI must never run."""

    @hookimpl
    def sitroom_source_kinds(self) -> list[SourceKind]:
        raise RuntimeError("kinds bug")

    @hookimpl
    def sitroom_routes(self) -> list[Route]:
        Calls.log.append("raises_in_kinds:routes")
        return [Route("GET", "/api/v1/unregistered", ok_handler, auth=False)]

    @hookimpl
    def sitroom_startup(self) -> None:
        Calls.log.append("raises_in_kinds:startup")

    @hookimpl
    def sitroom_cli(self, subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
        subparsers.add_parser("unregistered")


class ReturnsJunkKinds:
    @hookimpl
    def sitroom_source_kinds(self) -> list[object]:
        return ["not a kind"]


class RaisesInSimulators:
    @hookimpl
    def sitroom_source_kinds(self) -> list[SourceKind]:
        return [kind("sim_plugin_kind")]

    @hookimpl
    def sitroom_simulators(self) -> list[SimulatorSpec]:
        raise RuntimeError("simulators bug")


class RaisesInRoutes:
    @hookimpl
    def sitroom_routes(self, daemon: DaemonAPI) -> list[Route]:
        raise RuntimeError("routes bug")


class RaisesInStartup:
    @hookimpl
    async def sitroom_startup(self, daemon: DaemonAPI) -> None:
        raise RuntimeError("startup bug")

    @hookimpl
    def sitroom_shutdown(self, daemon: DaemonAPI) -> None:
        raise RuntimeError("shutdown bug")


class RaisesInCli:
    @hookimpl
    def sitroom_cli(self, subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
        raise RuntimeError("cli bug")


class Simulates:
    @hookimpl
    def sitroom_simulators(self) -> list[SimulatorSpec]:
        return [SimulatorSpec("quiet", SimConfig, run_nothing)]
