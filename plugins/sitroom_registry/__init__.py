"""Citizen camera registry: register by IP, probe, approve, monitor.

Citizens, shops, offices and schools register their cameras through a public API; the
registry guards the address against SSRF, probes the stream once, waits for an
administrator's approval and then publishes the camera as a `camera` source, live, without
a restart. See README.md for the API, the lifecycle and the security model.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sitroom.api import Route, SourceKind, hookimpl
from sitroom_registry.config import RegistryConfig
from sitroom_registry.metrics import ALL
from sitroom_registry.source import RegistrySource

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind(
            name="camera_registry",
            config_model=RegistryConfig,
            factory=RegistrySource,
            metrics=ALL,
            # every replica serves the API and publishes; the core shards the cameras
            every_shard=True,
            description="Citizen camera registry: SSRF-guarded registration, probing, "
            "approval; publishes active cameras as camera sources.",
        )
    ]


@hookimpl
def sitroom_routes(daemon: DaemonAPI) -> list[Route]:
    from sitroom_registry import pages
    from sitroom_registry.api import routes

    return routes(daemon) + pages.routes(daemon)


@hookimpl
def sitroom_templates() -> list[Path]:
    return [Path(__file__).parent / "templates"]


@hookimpl
def sitroom_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from sitroom_registry.cli import add_parser

    add_parser(subparsers)
