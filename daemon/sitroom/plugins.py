"""Loading plugins through pluggy, so that one broken plugin never takes the daemon down."""

from __future__ import annotations

import importlib.metadata
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy
import structlog

from sitroom import hookspecs
from sitroom.declarations import Route, SimulatorSpec, SourceKind

ENTRY_POINT_GROUP = "sitroom.plugins"
log = structlog.get_logger("sitroom.plugins")


@dataclass
class PluginFailure:
    plugin: str
    stage: str  # import | register | hook
    error: str


@dataclass
class PluginSet:
    """The loaded plugins and what they contribute, with the failures kept for reporting."""

    manager: pluggy.PluginManager
    loaded: dict[str, str] = field(default_factory=dict)  # plugin -> version
    failures: list[PluginFailure] = field(default_factory=list)
    kinds: dict[str, SourceKind] = field(default_factory=dict)
    kind_plugin: dict[str, str] = field(default_factory=dict)
    simulators: dict[str, SimulatorSpec] = field(default_factory=dict)

    def routes(self, daemon: Any) -> list[Route]:
        routes: list[Route] = []
        for plugin_name, plugin in self.manager.list_name_plugin():
            impl = getattr(plugin, "sitroom_routes", None)
            if impl is None:
                continue
            try:
                routes.extend(impl(daemon=daemon) or [])
            except Exception as exc:  # a plugin's bug must not break the web server
                self._fail(plugin_name, "routes", exc)
        return routes

    def _fail(self, plugin: str, stage: str, exc: BaseException) -> None:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.failures.append(PluginFailure(plugin, stage, detail))
        log.error("plugin_failed", plugin=plugin, stage=stage, error=detail)


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


def load_plugins(
    extra: list[tuple[str, ModuleType | object]] | None = None,
    use_entry_points: bool = True,
) -> PluginSet:
    """Import every entry-point plugin (plus `extra` ones, for tests), collecting failures."""
    manager = pluggy.PluginManager("sitroom")
    manager.add_hookspecs(hookspecs)
    plugins = PluginSet(manager)
    candidates: list[tuple[str, Any]] = []
    if use_entry_points:
        for ep in _entry_points():
            try:
                candidates.append((ep.name, ep.load()))
            except Exception as exc:
                plugins._fail(ep.name, "import", exc)
                continue
            version = ep.dist.version if ep.dist is not None else "unknown"
            plugins.loaded[ep.name] = version
    for name, obj in extra or []:
        candidates.append((name, obj))
        plugins.loaded.setdefault(name, "unknown")
    for name, obj in candidates:
        try:
            manager.register(obj, name=name)
        except Exception as exc:
            plugins.loaded.pop(name, None)
            plugins._fail(name, "register", exc)
    for name, obj in manager.list_name_plugin():
        _collect_kinds(plugins, name, obj)
        _collect_simulators(plugins, name, obj)
    return plugins


def _collect_kinds(plugins: PluginSet, name: str, obj: Any) -> None:
    impl = getattr(obj, "sitroom_source_kinds", None)
    if impl is None:
        return
    try:
        kinds = list(impl() or [])
    except Exception as exc:
        plugins._fail(name, "hook", exc)
        plugins.loaded.pop(name, None)
        return
    for kind in kinds:
        if kind.name in plugins.kinds:
            other = plugins.kind_plugin[kind.name]
            plugins._fail(name, "hook", ValueError(f"kind {kind.name!r} already from {other}"))
            continue
        plugins.kinds[kind.name] = kind
        plugins.kind_plugin[kind.name] = name


def _collect_simulators(plugins: PluginSet, name: str, obj: Any) -> None:
    impl = getattr(obj, "sitroom_simulators", None)
    if impl is None:
        return
    try:
        sims = list(impl() or [])
    except Exception as exc:
        plugins._fail(name, "hook", exc)
        return
    for sim in sims:
        if sim.name in plugins.simulators:
            plugins._fail(name, "hook", ValueError(f"simulator {sim.name!r} defined twice"))
            continue
        plugins.simulators[sim.name] = sim
