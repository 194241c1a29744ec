"""The sources the daemon runs: desired state, reconciliation, start and stop, children.

The daemon hands this manager a validated config; the manager works out which sources this
shard should run (static ones plus the children other sources published), stops those that
went away or changed, and starts the new ones, each under its own `SourceRunner`. It also
answers the questions others ask about sources: plugins (through `PluginView`, the
`DaemonAPI` their hooks receive), the web API (`state`), and the scrape (`refresh_gauges`).
Process concerns (signals, the web server, simulators, the worker pool) stay in
`sitroom.daemon`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from sitroom import selfmetrics as sm
from sitroom.config import ConfigIssue, LimitsConfig, register_secrets
from sitroom.context import SourceContext
from sitroom.declarations import Source
from sitroom.events.manager import EventManager, SourceEvents
from sitroom.metrics.store import MetricStore, MetricWriter
from sitroom.plugins import PluginSet
from sitroom.secrets import redactor
from sitroom.sharding import in_shard
from sitroom.supervisor import SourceRunner
from sitroom.validation import LoadedConfig, ValidatedSource, validate_source

log = structlog.get_logger("sitroom.sources")

PUBLIC_SOURCE_FIELDS = (
    "name",
    "kind",
    "plugin",
    "state",
    "up",
    "last_success",
    "last_error_reason",
    "last_error_at",
    "consecutive_failures",
    "series",
    "series_dropped",
    "published_by",
)
"""What anonymous callers of /api/v1/sources see of a source (no config, no error text)."""


class SourceManager:
    """Runs the sources of the current config on this shard, and reports on them."""

    def __init__(
        self,
        *,
        plugins: PluginSet,
        store: MetricStore,
        core: MetricWriter,
        config_dir: Path,
        shard: tuple[int, int] | None,
        http: Callable[[], aiohttp.ClientSession],
        events: EventManager | None = None,
    ) -> None:
        self.plugins = plugins
        self.events = events if events is not None else EventManager()
        self.store = store
        self.core = core
        self.config_dir = config_dir
        self.shard = shard
        self._http = http
        self._runners: dict[str, SourceRunner] = {}
        self._failed_starts: set[str] = set()  # factory raised; retried on the next reconcile
        self._published: dict[str, dict[str, ValidatedSource]] = {}  # parent -> children
        self._config: LoadedConfig | None = None
        self._limits = LimitsConfig()
        self._executor: Executor | None = None
        self._state_dir = config_dir / "state"
        self.lock = asyncio.Lock()
        """Held by whoever reconciles (reload, a parent publishing): one at a time."""

    # -- what the daemon tells it ------------------------------------------------------------

    def configure(
        self,
        limits: LimitsConfig,
        *,
        executor: Executor | None = None,
        state_dir: Path | None = None,
    ) -> None:
        """Limits apply to sources started from now on; executor and state dir are set once
        at start (a reload that moved them would strand running sources)."""
        self._limits = limits
        if executor is not None:
            self._executor = executor
        if state_dir is not None:
            self._state_dir = state_dir

    @property
    def config(self) -> LoadedConfig | None:
        """The config last reconciled to (None before start and after `stop_all`)."""
        return self._config

    async def reconcile(self, config: LoadedConfig) -> None:
        """Make the running sources match `config` (call with `lock` held)."""
        for parent in [p for p in self._published if p not in config.sources]:
            del self._published[parent]  # a parent that returns later republishes afresh
        desired = self._desired(config)
        for name in self._failed_starts - set(desired):
            self._failed_starts.discard(name)
            self._forget_self_metrics(name)
        doomed = [
            name
            for name, runner in self._runners.items()
            if name not in desired
            or desired[name].kind is not runner.kind
            or desired[name].config != runner.config
        ]
        if doomed:
            await self._stop(doomed)
        for name in doomed:
            if name not in desired:  # gone, not restarted: its incidents are over
                self.events.clear_source(name)
        for name, validated in desired.items():
            if name not in self._runners:
                self._start(validated)
        self._config = config

    async def stop_all(self) -> None:
        """Stop every source within the shutdown deadline; nothing starts afterwards."""
        async with self.lock:
            deadline = self._limits.shutdown_timeout
            runners = list(self._runners.values())
            await asyncio.gather(*(r.stop(deadline) for r in runners), return_exceptions=True)
            self._runners.clear()
            self._config = None

    async def publish_children(self, parent: str, configs: list[dict[str, Any]]) -> None:
        """Accept sources a source manages (registry cameras); invalid ones are logged."""
        children: dict[str, ValidatedSource] = {}
        static = self._config.sources if self._config else {}
        for data in configs:
            where = f"source {parent}: published {data.get('name', '?')}"
            validated, problems = validate_source(data, where, self.plugins, self.config_dir)
            if validated is None:
                for issue in problems:
                    log.error("published_source_invalid", parent=parent, error=str(issue))
                continue
            if validated.name in static or validated.name in children:
                log.error("published_source_name_taken", parent=parent, name=validated.name)
                continue
            register_secrets(validated.config, redactor)
            children[validated.name] = ValidatedSource(
                validated.kind, validated.config, where, parent=parent
            )
        self._published[parent] = children
        if self._config is not None:
            async with self.lock:
                if self._config is not None:  # not stopped while waiting for the lock
                    await self.reconcile(self._config)

    # -- periodic bookkeeping ----------------------------------------------------------------

    def refresh_gauges(self) -> None:
        """Cheap per-scrape bookkeeping: series counts per source."""
        for name, runner in self._runners.items():
            self.core.set(
                sm.SOURCE_SERIES, runner.ctx.metrics.series_count, kind=runner.kind.name,
                source=name,
            )

    def expire_silent_series(self) -> None:
        """Drop push sources' series not refreshed within each source's `stale_after`."""
        for runner in list(self._runners.values()):
            if runner.kind.push:
                runner.ctx.metrics.expire(float(runner.config.stale_after))

    # -- questions ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._runners)

    def names(self) -> list[str]:
        return sorted(self._runners)

    def runner(self, name: str) -> SourceRunner | None:
        return self._runners.get(name)

    def runners(self) -> Iterator[SourceRunner]:
        return iter(list(self._runners.values()))

    def source(self, name: str, kind: str | None = None) -> Source | None:
        runner = self._runners.get(name)
        if runner is None or (kind is not None and runner.kind.name != kind):
            return None
        return runner.source

    def sources(self, kind: str | None = None) -> list[Source]:
        return [r.source for r in self._runners.values() if kind is None or r.kind.name == kind]

    def invalid(self) -> list[ConfigIssue]:
        """Sources of the current config skipped as invalid (at first start)."""
        return list(self._config.source_issues) if self._config else []

    def state(self, name: str, full: bool = True) -> dict[str, Any]:
        """One source's state for /api/v1/sources; `full` adds config, error text and details
        (token holders only: a registered citizen camera's address is not for anonymous
        eyes, even redacted)."""
        runner = self._runners[name]
        status = runner.ctx.status
        validated = self._config.sources.get(name) if self._config else None
        parent = next((p for p, kids in self._published.items() if name in kids), None)
        state = {
            "name": name,
            "kind": runner.kind.name,
            "plugin": self.plugins.kind_plugin.get(runner.kind.name, ""),
            "state": status.state,
            "up": status.state == "ok",
            "last_success": status.last_success,
            "last_error": status.last_error,
            "last_error_reason": status.last_error_reason,
            "last_error_at": status.last_error_at,
            "consecutive_failures": status.consecutive_failures,
            "series": runner.ctx.metrics.series_count,
            "series_dropped": runner.ctx.metrics.dropped,
            "defined_in": validated.where if validated else None,
            "published_by": parent,
            "details": status.details,
            "config": runner.config.model_dump(mode="json"),
        }
        if full:
            return state
        return {key: state[key] for key in PUBLIC_SOURCE_FIELDS}

    # -- internals ---------------------------------------------------------------------------

    def _desired(self, config: LoadedConfig) -> dict[str, ValidatedSource]:
        desired = {
            n: s
            for n, s in config.sources.items()
            if s.kind.every_shard or in_shard(n, self.shard)
        }
        for parent, children in self._published.items():
            if parent not in config.sources:
                continue  # the publishing source is gone, and so are its children
            for name, child in children.items():
                if name not in config.sources and in_shard(name, self.shard):
                    desired[name] = child
        return desired

    async def _stop(self, names: list[str]) -> None:
        deadline = self._limits.shutdown_timeout
        runners = [self._runners.pop(name) for name in names]
        await asyncio.gather(*(r.stop(deadline) for r in runners), return_exceptions=True)
        for runner in runners:
            self.store.remove_owner(runner.name)
            self._forget_self_metrics(runner.name)
            log.info("source_stopped", source=runner.name, kind=runner.kind.name)

    def _forget_self_metrics(self, name: str) -> None:
        for spec in sm.PER_SOURCE:
            self.core.remove_matching(spec, source=name)

    def _start(self, validated: ValidatedSource) -> None:
        name, kind = validated.name, validated.kind
        if name in self._failed_starts:
            self._failed_starts.discard(name)
            self._forget_self_metrics(name)
        labels = {"kind": kind.name, "source": name}
        limit = self._limits.max_series_per_source
        warned = False

        def on_drop(metric: str) -> None:
            nonlocal warned
            self.core.inc(sm.SOURCE_DROPPED, **labels)
            if not warned:
                warned = True
                log.warning("series_limit_reached", metric=metric, limit=limit, **labels)

        try:  # families a source declares from its config may clash with another source's
            writer = self.store.writer(
                name, kind.metrics_of(validated.config), (name,), limit, on_drop
            )
        except Exception as exc:
            self._start_failed(name, kind.name, exc)
            return
        self.core.inc(sm.SOURCE_DROPPED, 0, **labels)
        self.core.inc(sm.SOURCE_RESTARTS, 0, **labels)
        ctx = SourceContext(
            name=name,
            kind=kind.name,
            metrics=writer,
            executor=self._executor,
            http_factory=self._http,
            state_dir=self._state_dir,
            publish=self.publish_children,
            events=SourceEvents(self.events, kind.name, name, kind.all_events,
                                kind.down_event),
        )
        try:
            runner = SourceRunner(
                kind,
                validated.config,
                ctx,
                self.core,
                max_backoff=self._limits.max_backoff,
                plugin=self.plugins.kind_plugin.get(kind.name, ""),
            )
            runner.start()
        except Exception as exc:  # a factory bug in one plugin must not stop the rest
            self._start_failed(name, kind.name, exc)
            return
        self._runners[name] = runner

    def _start_failed(self, name: str, kind: str, exc: Exception) -> None:
        log.error(
            "source_start_failed",
            source=name,
            kind=kind,
            error=redactor.redact(str(exc)),
            exc_info=exc,
        )
        self.store.remove_owner(name)
        self._failed_starts.add(name)
        self.core.set(sm.SOURCE_UP, 0, kind=kind, source=name)
        self.core.inc(sm.SOURCE_ERRORS, reason="internal", kind=kind, source=name)


class PluginView:
    """The `DaemonAPI` plugin hooks and routes receive: live sources and two directories,
    nothing that could start, stop or reconfigure anything."""

    def __init__(self, manager: SourceManager, state_dir: Callable[[], Path]) -> None:
        self._manager = manager
        self._state_dir = state_dir

    def source(self, name: str, kind: str | None = None) -> Source | None:
        return self._manager.source(name, kind)

    def sources(self, kind: str | None = None) -> list[Source]:
        return self._manager.sources(kind)

    @property
    def config_dir(self) -> Path:
        return self._manager.config_dir

    @property
    def state_dir(self) -> Path:
        return self._state_dir()
