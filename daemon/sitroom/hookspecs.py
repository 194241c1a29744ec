"""The hooks a sitroom plugin can implement.

A plugin is a module registered under the `sitroom.plugins` entry-point group that defines
functions decorated with `sitroom.hookimpl` and named after the specs below. Built-in plugins
load exactly like third-party ones. Every hook is optional; most plugins implement only
`sitroom_source_kinds`. See docs/plugins.md for a walk-through.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from sitroom.declarations import DaemonAPI, Route, SimulatorSpec, SourceKind

hookspec = pluggy.HookspecMarker("sitroom")
hookimpl = pluggy.HookimplMarker("sitroom")


@hookspec
def sitroom_source_kinds() -> list[SourceKind]:
    """Return the source kinds this plugin provides.

    Each kind names its config model, the metrics it may emit and a factory for its source
    objects. Kind names are global: two plugins claiming one name is a load error.
    """


@hookspec
def sitroom_simulators() -> list[SimulatorSpec]:
    """Return loopback simulators of this plugin's devices.

    The daemon runs those named in a config's `simulators:` section (the demo city), and
    `sitroom simulate NAME` runs one on its own for tests and development.
    """


@hookspec
def sitroom_routes(daemon: DaemonAPI) -> list[Route]:
    """Return HTTP routes served under `/api/v1/` (ingest endpoints, snapshots, APIs).

    `daemon` finds live sources by name (`daemon.source(name, kind=...)`), so an ingest
    route can hand a payload to the source it names. Routes need a scope (default `admin`)
    unless they set `auth=False`; `Route(page=True)` serves an HTML page (see `Route`).
    """


@hookspec
def sitroom_templates() -> list[Path]:
    """Return directories of Jinja2 templates the plugin's pages render (after the core's
    `base.html`, which they extend). Name templates after the plugin to avoid clashes."""


@hookspec
def sitroom_startup(daemon: DaemonAPI) -> Awaitable[None] | None:
    """Run once after config load, before sources start (open a database, warm a cache)."""


@hookspec
def sitroom_shutdown(daemon: DaemonAPI) -> Awaitable[None] | None:
    """Run once during shutdown, after sources have stopped."""


@hookspec
def sitroom_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add subcommands to the `sitroom` CLI (e.g. `sitroom cameras list`).

    Set `func=` with `set_defaults`; it receives the parsed arguments and returns an exit
    code.
    """
