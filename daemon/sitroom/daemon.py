"""The daemon process: config load and reload, simulators, the web server and signals.

Which sources run, and their state, is the `SourceManager`'s job (`sitroom.source_manager`);
this module owns everything with the process's lifetime around it.

Reload semantics follow Prometheus: a new config that has any error is refused as a whole
and the running one stays. At first start there is no running config to keep, so a broken
source is skipped and reported (log, `sitroom_config_invalid_sources`, `/api/v1/sources`)
while every valid source runs: a city room must not go dark over one bad camera entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from sitroom import __version__
from sitroom import selfmetrics as sm
from sitroom.auth import Scope
from sitroom.config import ConfigError, DaemonConfig, register_secrets
from sitroom.declarations import DaemonAPI
from sitroom.events.service import EventService
from sitroom.metrics.runtime import RuntimeMetrics
from sitroom.metrics.store import MetricStore, MetricWriter
from sitroom.plugins import PluginFailure, PluginSet, load_plugins
from sitroom.runbooks_page import runbooks_url
from sitroom.secrets import redactor
from sitroom.sessions import SessionStore
from sitroom.source_manager import PluginView, SourceManager
from sitroom.supervisor import SourceRunner
from sitroom.validation import LoadedConfig, load_config

log = structlog.get_logger("sitroom.daemon")
HOUSEKEEPING_INTERVAL = 1.0


class Daemon:
    def __init__(
        self,
        config_dir: Path,
        listen: str | None = None,
        shard: tuple[int, int] | None = None,
        plugins: PluginSet | None = None,
    ) -> None:
        self.config_dir = Path(config_dir)
        self.listen_override = listen
        self.shard = shard
        self.plugins = plugins or load_plugins()
        self.store = MetricStore()
        self.core: MetricWriter = self.store.writer("__sitroom__", sm.ALL)
        self.runtime = RuntimeMetrics(self.core)  # process_*, python_*: refreshed per scrape
        self.events = EventService(self.core)
        self._state_dir: Path | None = None
        self.daemon_config = DaemonConfig()
        self.sessions = SessionStore(float(self.daemon_config.auth.session_ttl))
        self.manager = SourceManager(
            plugins=self.plugins,
            store=self.store,
            core=self.core,
            config_dir=self.config_dir,
            shard=shard,
            http=self.http_session,
            events=self.events.manager,
        )
        self.api: DaemonAPI = PluginView(self.manager, lambda: self.state_dir)
        self.ready = False
        self._executor: ThreadPoolExecutor | None = None
        self._http: aiohttp.ClientSession | None = None
        self._simulators: dict[str, asyncio.Task[None]] = {}
        self._background: list[asyncio.Task[None]] = []
        self._web_runner: web.AppRunner | None = None
        self.bound_addresses: list[tuple[str, int]] = []

    @property
    def runners(self) -> Mapping[str, SourceRunner]:
        """The running sources by name (a read-only view, for tests and tools)."""
        return {runner.name: runner for runner in self.manager.runners()}

    @property
    def config(self) -> LoadedConfig | None:
        """The config the sources run from (None before start and once stopping)."""
        return self.manager.config

    @property
    def state_dir(self) -> Path:
        """Fixed at start: a reload that moved it would hand restarted sources empty state."""
        if self._state_dir is None:
            self._state_dir = self.daemon_config.state_path(self.config_dir)
        return self._state_dir

    @property
    def token(self) -> str | None:
        token = self.daemon_config.auth.token
        return token.get_secret_value() if token is not None else None

    def scoped_tokens(self) -> list[tuple[str, str, Scope]]:
        """(name, token, scope) for every bearer token; the single `token` is `admin`."""
        auth = self.daemon_config.auth
        tokens: list[tuple[str, str, Scope]] = [
            (t.name, t.token.get_secret_value(), t.scope) for t in auth.tokens
        ]
        if auth.token is not None:
            tokens.append(("api", auth.token.get_secret_value(), "admin"))
        return tokens

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Load config, then start simulators, the web server and sources, in that order."""
        self.core.info(
            sm.BUILD_INFO, version=__version__, python_version=platform.python_version()
        )
        for plugin, _version in self.plugins.loaded.items():
            self.core.set(sm.PLUGIN_LOADED, 1, plugin=plugin)
        for failure in self.plugins.failures:
            self._count_plugin_failure(failure)
        self.plugins.failure_listeners.append(self._count_plugin_failure)
        ordinal, total = self.shard or (0, 1)
        self.core.set(sm.SHARD_ORDINAL, ordinal)
        self.core.set(sm.TOTAL_SHARDS, total)
        if self.shard is not None:
            self.core.info(sm.SHARD_INFO, shard=ordinal, shards=total)
        config = load_config(self.config_dir, self.plugins)
        if config.fatal:
            self.core.set(sm.CONFIG_RELOAD_OK, 0)
            raise ConfigError(config.fatal)
        for issue in config.source_issues:
            log.error("source_config_invalid", where=issue.where, error=issue.message)
        self._apply_daemon_config(config)
        self._executor = ThreadPoolExecutor(
            max_workers=self.daemon_config.limits.blocking_workers,
            thread_name_prefix="sitroom-blocking",
        )
        self.manager.configure(
            self.daemon_config.limits, executor=self._executor, state_dir=self.state_dir
        )
        await self._start_simulators(config)
        await self.plugins.call_async("sitroom_startup", "startup", daemon=self.api)
        from sitroom.web import start_web

        self._web_runner, self.bound_addresses = await start_web(
            self, self.listen_override or self.daemon_config.listen
        )
        self.events.start(self.daemon_config.alerting, self.state_dir, self.bound_addresses)
        runbooks = runbooks_url(self.daemon_config.public_url, self.bound_addresses)
        self.core.info(sm.DOCS_INFO, runbooks=runbooks)
        self.events.manager.runbooks = runbooks
        async with self.manager.lock:
            await self.manager.reconcile(config)
        self._mark_reload(True)
        self.core.set(sm.CONFIG_INVALID_SOURCES, len(config.source_issues))
        self._background.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))
        self.ready = True
        log.info(
            "daemon_started",
            sources=len(self.manager),
            listen=self.bound_addresses,
            invalid_sources=len(config.source_issues),
        )

    async def stop(self) -> None:
        """Drain: stop sources within the shutdown deadline, then everything else."""
        deadline = self.daemon_config.limits.shutdown_timeout
        self.ready = False
        log.info("daemon_stopping", deadline_seconds=deadline)
        for task in self._background:
            task.cancel()
        await self.manager.stop_all()  # a reload in flight finishes first, then nothing starts
        await self.events.stop(deadline)
        await self.plugins.call_async("sitroom_shutdown", "shutdown", daemon=self.api)
        for task in self._simulators.values():
            task.cancel()
        if self._simulators:
            await asyncio.wait(self._simulators.values(), timeout=deadline)
        if self._web_runner is not None:
            await self._web_runner.cleanup()
        if self._http is not None:
            await self._http.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        log.info("daemon_stopped")

    async def reload(self) -> tuple[bool, list[str]]:
        """Re-read the config dir; apply it only if it is entirely valid."""
        async with self.manager.lock:
            config: LoadedConfig | None = None
            try:
                loaded = await asyncio.to_thread(load_config, self.config_dir, self.plugins)
            except Exception as exc:
                problems = [f"{self.config_dir}: {exc}"]
            else:
                config, problems = loaded, [str(issue) for issue in loaded.issues]
            if config is None or problems:
                self._mark_reload(False)
                log.error("reload_rejected", problems=problems)
                return False, problems
            if self.config is None:  # shutting down
                return False, ["the daemon is shutting down"]
            self._warn_restart_only(config)
            self._apply_daemon_config(config)
            self.manager.configure(config.daemon.limits)
            await self.manager.reconcile(config)
            self.core.set(sm.CONFIG_INVALID_SOURCES, 0)
            self._mark_reload(True)
            log.info("reload_applied", sources=len(self.manager))
            return True, []

    # -- config -----------------------------------------------------------------------------

    def _warn_restart_only(self, new: LoadedConfig) -> None:
        """Say so when a reload changes settings that only a restart applies."""
        old = self.daemon_config
        changed = [
            name
            for name, before, after in (
                ("listen", old.listen, new.daemon.listen),
                ("log_level", old.log_level, new.daemon.log_level),
                ("state_dir", old.state_dir, new.daemon.state_dir),
                ("alerting", old.alerting, new.daemon.alerting),
                ("public_url", old.public_url, new.daemon.public_url),
                ("limits.blocking_workers", old.limits.blocking_workers,
                 new.daemon.limits.blocking_workers),
            )
            if before != after
        ]
        if self.config is not None and self.config.simulators != new.simulators:
            changed.append("simulators")
        if changed:
            log.warning("reload_needs_restart", settings=changed,
                        note="these settings keep their old values until the daemon restarts")

    def _apply_daemon_config(self, config: LoadedConfig) -> None:
        self.daemon_config = config.daemon
        register_secrets(config.daemon, redactor)
        auth = config.daemon.auth
        self.sessions.ttl = float(auth.session_ttl)
        scopes = {user.name: user.scope for user in auth.users}
        for session_user in self.sessions.users():  # removed or changed users log in again
            self.sessions.drop_user_unless(session_user, scopes.get(session_user))
        for validated in config.sources.values():
            register_secrets(validated.config, redactor)

    # -- helpers --------------------------------------------------------------------------

    def http_session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            # no pool-wide cap: every MJPEG camera holds a connection for good, and a cap of
            # 100 would starve snapshots, feeds and probes in a city of thousands of cameras
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=16),
                timeout=aiohttp.ClientTimeout(total=30, connect=10),
                headers={"User-Agent": f"sitroom/{__version__}"},
            )
        return self._http

    def _count_plugin_failure(self, failure: PluginFailure) -> None:
        if failure.plugin not in self.plugins.loaded:  # never loaded, or unregistered
            self.core.set(sm.PLUGIN_LOADED, 0, plugin=failure.plugin)
        self.core.inc(sm.PLUGIN_FAILURES, plugin=failure.plugin, stage=failure.stage)

    def _mark_reload(self, ok: bool) -> None:
        self.core.set(sm.CONFIG_RELOAD_OK, 1 if ok else 0)
        if ok:
            self.core.set(sm.CONFIG_RELOAD_TS, time.time())

    async def _housekeeping(self) -> None:
        """Measure event-loop lag and expire silent push series, once a second."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)
            lag = max(0.0, loop.time() - before - HOUSEKEEPING_INTERVAL)
            self.core.set(sm.LOOP_LAG, lag)
            self.events.refresh()
            self.manager.expire_silent_series()

    async def _start_simulators(self, config: LoadedConfig) -> None:
        for name, sim_config in config.simulators.items():
            spec = self.plugins.simulators[name]
            task = asyncio.create_task(
                self._run_simulator(name, spec.run, sim_config), name=f"simulator:{name}"
            )
            self._simulators[name] = task
        if self._simulators:
            await asyncio.sleep(0.2)  # let servers bind before sources dial them

    @staticmethod
    async def _run_simulator(name: str, run: Any, sim_config: Any) -> None:
        log.info("simulator_starting", simulator=name)
        try:
            await run(sim_config)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("simulator_failed", simulator=name, error=str(exc), exc_info=exc)


async def run_daemon(
    config_dir: Path,
    listen: str | None,
    shard: tuple[int, int] | None,
    plugins: PluginSet | None = None,
) -> int:
    """Run until SIGTERM/SIGINT; SIGHUP reloads. Returns the process exit code."""
    import signal

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reloading: set[asyncio.Task[Any]] = set()
    pending: list[bool] = []
    daemon_ref: list[Daemon] = []

    def on_hup() -> None:
        if not daemon_ref or not daemon_ref[0].ready:
            log.warning("reload_ignored", reason="daemon not ready")
            return
        if reloading:  # a reload is running: run once more after it, with the newest files
            pending.append(True)
            log.info("reload_queued")
            return
        task = asyncio.create_task(daemon_ref[0].reload(), name="sighup-reload")
        reloading.add(task)
        task.add_done_callback(_reload_done)

    def _reload_done(task: asyncio.Task[Any]) -> None:
        reloading.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("reload_failed", error=str(task.exception()), exc_info=task.exception())
        if pending and not stop.is_set():
            pending.clear()
            on_hup()

    # signal handlers first thing: a SIGTERM during a slow start must still drain cleanly
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    daemon = Daemon(config_dir, listen=listen, shard=shard, plugins=plugins)
    daemon_ref.append(daemon)
    start = asyncio.create_task(daemon.start())
    stop_wait = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({start, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if start in done:
        try:
            start.result()
        except ConfigError as exc:
            log.error("config_invalid", problems=[str(i) for i in exc.issues])
            stop_wait.cancel()
            await daemon.stop()
            return 2
        except OSError as exc:
            log.error("startup_failed", error=str(exc))
            stop_wait.cancel()
            await daemon.stop()
            return 1
        await stop_wait
    else:
        start.cancel()
        with contextlib.suppress(BaseException):
            await start
    await daemon.stop()
    return 0
