"""Loading plugins and calling their hooks through pluggy, one plugin's failure at a time.

Every hook is called through the plugin manager, so everything pluggy promises a plugin
author holds: an implementation may take fewer arguments than the spec, may be named
anything with `@hookimpl(specname=...)`, and `tryfirst`/`trylast`/wrappers order the calls.
Isolation is per plugin: `PluginSet.call` runs a hook once per implementing plugin (a
pluggy subset caller holding only that plugin), so one plugin that raises is recorded (log,
`sitroom_plugin_failures_total`, `sitroom plugins`, `sitroom check-config`) and the others
still run. A plugin whose registration fails (import, pluggy's validation, or its
`sitroom_source_kinds` hook) is unregistered, so none of its other hooks run.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
import structlog

from sitroom import extras, hookspecs
from sitroom.declarations import Route, SimulatorSpec, SourceKind

ENTRY_POINT_GROUP = "sitroom.plugins"
log = structlog.get_logger("sitroom.plugins")


@dataclass
class PluginFailure:
    plugin: str
    stage: str  # import | register | source_kinds | simulators | routes | startup | ...
    error: str
    fix: str = ""  # a command that fixes it (a missing extra: pip install 'sitroom[x]')


@dataclass
class PluginSet:
    """The loaded plugins and what they contribute, with the failures kept for reporting."""

    manager: pluggy.PluginManager
    loaded: dict[str, str] = field(default_factory=dict)  # plugin -> version
    distributions: dict[str, str] = field(default_factory=dict)
    """Plugin -> the installed distribution whose entry point named it (`sitroom` for the
    built-in plugins); plugins passed in directly (tests) have none."""
    failures: list[PluginFailure] = field(default_factory=list)
    kinds: dict[str, SourceKind] = field(default_factory=dict)
    kind_plugin: dict[str, str] = field(default_factory=dict)
    simulators: dict[str, SimulatorSpec] = field(default_factory=dict)
    failure_listeners: list[Callable[[PluginFailure], None]] = field(default_factory=list)
    """Called with each failure as it is recorded (the daemon counts them in a metric)."""
    needs: dict[str, extras.PluginExtras] = field(default_factory=dict)
    """Each plugin's extra (sitroom.extras), so a failure it explains carries its fix."""

    # -- calling hooks ----------------------------------------------------------------------

    def call(self, hook_name: str, stage: str, **kwargs: Any) -> list[tuple[str, list[Any]]]:
        """Call `hook_name` once per implementing plugin, in pluggy's order.

        Returns (plugin, results) for every plugin whose implementations all returned;
        results are pluggy's (one per implementation, `None` left out). A plugin that
        raises is recorded under `stage` and left out.
        """
        outcomes: list[tuple[str, list[Any]]] = []
        for name, caller in self._callers(hook_name):
            try:
                outcomes.append((name, list(caller(**kwargs))))
            except Exception as exc:  # a plugin's bug must stay that plugin's
                self.record_failure(name, stage, exc)
        return outcomes

    async def call_async(self, hook_name: str, stage: str, **kwargs: Any) -> list[str]:
        """`call` for hooks that may return awaitables (startup, shutdown): each plugin's
        awaitables finish before the next plugin is called, so pluggy's order is the order
        the work happens in. Returns the plugins that succeeded."""
        succeeded: list[str] = []
        for name, caller in self._callers(hook_name):
            try:
                for result in caller(**kwargs):
                    if inspect.isawaitable(result):
                        await result
            except Exception as exc:
                self.record_failure(name, stage, exc)
            else:
                succeeded.append(name)
        return succeeded

    def implementers(self, hook_name: str) -> list[str]:
        """The plugins implementing a hook, in pluggy's call order."""
        return [name for name, _ in self._callers(hook_name)]

    def _callers(self, hook_name: str) -> list[tuple[str, Callable[..., list[Any]]]]:
        """One subset hook caller per plugin implementing the hook, in pluggy's call order
        (pluggy calls `get_hookimpls()` last to first: tryfirst, then newest registered)."""
        hook = getattr(self.manager.hook, hook_name)
        order: list[str] = []
        for impl in reversed(hook.get_hookimpls()):
            if impl.plugin_name not in order:
                order.append(impl.plugin_name)
        everyone = dict(self.manager.list_name_plugin())
        callers: list[tuple[str, Callable[..., list[Any]]]] = []
        for name in order:
            others = [plugin for other, plugin in everyone.items() if other != name]
            callers.append((name, self.manager.subset_hook_caller(hook_name, others)))
        return callers

    # -- contributions ------------------------------------------------------------------------

    def routes(self, daemon: Any) -> list[Route]:
        """Every plugin's routes; a plugin whose hook raises or returns junk adds none."""
        routes: list[Route] = []
        for name, results in self.call("sitroom_routes", "routes", daemon=daemon):
            try:
                found = _flatten(results, Route, "sitroom_routes")
            except TypeError as exc:
                self.record_failure(name, "routes", exc)
                continue
            routes.extend(found)
        return routes

    def template_dirs(self) -> list[Path]:
        """Every plugin's template directories (those that exist)."""
        found: list[Path] = []
        for name, results in self.call("sitroom_templates", "templates"):
            try:
                dirs = [Path(d) for d in _flatten(results, (str, Path), "sitroom_templates")]
            except TypeError as exc:
                self.record_failure(name, "templates", exc)
                continue
            found.extend(d for d in dirs if d.is_dir())
        return found

    def record_failure(self, plugin: str, stage: str, exc: BaseException) -> None:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        needs = self.needs.get(plugin)
        fix = needs.pip_command if needs is not None and needs.explains(exc) else ""
        failure = PluginFailure(plugin, stage, detail, fix)
        self.failures.append(failure)
        log.error("plugin_failed", plugin=plugin, stage=stage, error=detail,
                  **({"fix": fix} if fix else {}))
        for listener in self.failure_listeners:
            listener(failure)

    def unregister(self, plugin: str) -> None:
        """Take a plugin out entirely: none of its hooks run from now on."""
        if self.manager.has_plugin(plugin):
            self.manager.unregister(name=plugin)
        self.loaded.pop(plugin, None)


def _flatten(results: list[Any], expected: type | tuple[type, ...], hook: str) -> list[Any]:
    """A hook's results (each a list) as one list, refusing objects of the wrong type."""
    items: list[Any] = []
    for result in results:
        for item in result or []:
            if not isinstance(item, expected):
                wanted = getattr(expected, "__name__", "a path")
                raise TypeError(f"{hook} returned {type(item).__name__}, not {wanted}")
            items.append(item)
    return items


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
    candidates: list[tuple[str, Any, str]] = []
    if use_entry_points:
        for ep in _entry_points():
            needs = extras.of_entry_point(ep)
            if needs is not None:
                plugins.needs[ep.name] = needs
            try:
                if needs is not None:
                    needs.check()  # before the import: a lazily imported extra counts too
                obj = ep.load()
            except Exception as exc:
                plugins.record_failure(ep.name, "import", exc)
                continue
            candidates.append((ep.name, obj, ep.dist.version if ep.dist else "unknown"))
            if ep.dist is not None:
                plugins.distributions[ep.name] = ep.dist.name
    candidates += [(name, obj, "unknown") for name, obj in extra or []]
    for name, obj, version in candidates:
        try:
            manager.register(obj, name=name)
        except Exception as exc:  # pluggy's validation: unknown hook argument, wrong name
            plugins.record_failure(name, "register", exc)
            continue
        plugins.loaded[name] = version
    _collect_kinds(plugins)
    _collect_simulators(plugins)
    return plugins


def _collect_kinds(plugins: PluginSet) -> None:
    """Registration proper: a plugin whose kinds hook fails is unregistered altogether,
    since its routes and startup hooks would serve kinds that do not exist."""
    implementing = set(plugins.implementers("sitroom_source_kinds"))
    outcomes = plugins.call("sitroom_source_kinds", "source_kinds")
    succeeded = {name for name, _ in outcomes}
    for name in sorted(implementing - succeeded):
        plugins.unregister(name)
    for name, results in outcomes:
        try:
            kinds = _flatten(results, SourceKind, "sitroom_source_kinds")
        except TypeError as exc:
            plugins.record_failure(name, "source_kinds", exc)
            plugins.unregister(name)
            continue
        for kind in kinds:
            if kind.name in plugins.kinds:
                other = plugins.kind_plugin[kind.name]
                error = ValueError(f"kind {kind.name!r} already from {other}")
                plugins.record_failure(name, "source_kinds", error)
                continue
            plugins.kinds[kind.name] = kind
            plugins.kind_plugin[kind.name] = name


def _collect_simulators(plugins: PluginSet) -> None:
    for name, results in plugins.call("sitroom_simulators", "simulators"):
        try:
            sims = _flatten(results, SimulatorSpec, "sitroom_simulators")
        except TypeError as exc:
            plugins.record_failure(name, "simulators", exc)
            continue
        for sim in sims:
            if sim.name in plugins.simulators:
                error = ValueError(f"simulator {sim.name!r} defined twice")
                plugins.record_failure(name, "simulators", error)
                continue
            plugins.simulators[sim.name] = sim
