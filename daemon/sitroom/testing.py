"""Helpers for plugin authors: run one source in a test, no daemon and no HTTP needed.

    from sitroom.testing import SourceHarness
    import sitroom_http_probe as plugin

    async def test_probe():
        async with SourceHarness.from_plugin(plugin, {"kind": "http_probe", "name": "t",
                                                      "url": "http://127.0.0.1:8080/"}) as h:
            await h.collect()
            assert h.value("sitroom_http_probe_success", target="http://127.0.0.1:8080/") == 1

The harness uses the same config validation, metric store and writer as the daemon, so a
test that passes here exercises the real label and cardinality checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import aiohttp
from pydantic import BaseModel

from sitroom.context import SourceContext
from sitroom.declarations import PollingSource, SourceKind, StreamingSource
from sitroom.events.manager import EventManager, SourceEvents
from sitroom.metrics.exposition import render
from sitroom.metrics.store import MetricRef, MetricStore
from sitroom.plugins import load_plugins


def kinds_of(plugin: ModuleType | object) -> dict[str, SourceKind]:
    """The kinds `plugin` contributes, registered through pluggy exactly as the daemon does
    (so `specname=`, fewer arguments and a failing hook behave as they will in production)."""
    name = getattr(plugin, "__name__", None) or type(plugin).__name__
    plugins = load_plugins(extra=[(name, plugin)], use_entry_points=False)
    if plugins.failures:
        problems = "; ".join(f"{f.stage}: {f.error}" for f in plugins.failures)
        raise ValueError(f"plugin {name} failed to load: {problems}")
    if not plugins.kinds:
        raise ValueError(f"{plugin!r} implements no sitroom_source_kinds hook")
    return dict(plugins.kinds)


class SourceHarness:
    """One source with its own metric store, executor and HTTP session."""

    def __init__(
        self,
        kind: SourceKind,
        config: dict[str, Any] | BaseModel,
        *,
        max_series: int | None = 10_000,
        state_dir: Path | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.kind = kind
        if not isinstance(config, BaseModel):
            config = kind.config_model.model_validate(config, context={"base_dir": base_dir})
        # Any: the plugin's own config model, whose fields its tests read (`h.config.url`)
        self.config = cast(Any, config)
        self.store = MetricStore()
        name = str(self.config.name)
        self.metrics = self.store.writer(name, kind.metrics_of(self.config), (name,), max_series)
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="harness")
        self._session: aiohttp.ClientSession | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="sitroom-harness-")
            state_dir = Path(self._tmp.name)
        self.published: list[list[dict[str, Any]]] = []
        self.events = EventManager()
        """Every event the source raised: `h.events.active`, `h.active_events()`."""
        self.ctx = SourceContext(
            name=name,
            kind=kind.name,
            metrics=self.metrics,
            executor=self._executor,
            http_factory=self._http,
            state_dir=state_dir,
            publish=self._publish,
            events=SourceEvents(self.events, kind.name, name, kind.all_events, kind.down_event),
        )
        self.source = kind.factory(self.config, self.ctx)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_plugin(
        cls, plugin: ModuleType | object, config: dict[str, Any], **kwargs: Any
    ) -> SourceHarness:
        kinds = kinds_of(plugin)
        kind_name = config.get("kind")
        if kind_name not in kinds:
            raise ValueError(f"plugin has no kind {kind_name!r}; it has {sorted(kinds)}")
        return cls(kinds[kind_name], config, **kwargs)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _publish(self, parent: str, configs: list[dict[str, Any]]) -> None:
        self.published.append(configs)

    # -- driving the source ---------------------------------------------------------------

    async def collect(self) -> None:
        """One poll, bounded by the config's timeout, exceptions propagated to the test."""
        assert isinstance(self.source, PollingSource), "collect() is for polling sources"
        async with asyncio.timeout(float(self.config.timeout)):
            await self.source.collect()

    def start(self) -> asyncio.Task[None]:
        """Start a streaming source's run() in the background."""
        assert isinstance(self.source, StreamingSource), "start() is for streaming sources"
        self._task = asyncio.get_running_loop().create_task(self.source.run())
        return self._task

    async def wait_for(self, predicate: Any, within: float = 10.0, step: float = 0.05) -> None:
        """Wait until `predicate()` is true (e.g. a value arrived over MQTT)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            if self._task is not None and self._task.done():
                self._task.result()  # surface the source's exception
                raise AssertionError("source stopped before the condition held")
            if loop.time() > deadline:
                raise AssertionError(f"condition not met within {within}s")
            await asyncio.sleep(step)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.source.close()

    # -- reading results ------------------------------------------------------------------

    def value(self, name: MetricRef, /, **labels: object) -> float | None:
        """A series' value by its spec (or family name); None when it was never written."""
        return self.metrics.get(name, **labels)

    def samples(self, name: MetricRef) -> dict[tuple[str, ...], float]:
        return self.metrics.samples(name)

    def active_events(self) -> dict[str, list[dict[str, str]]]:
        """Active events by alertname, each as its alert labels (for assertions)."""
        result: dict[str, list[dict[str, str]]] = {}
        for event in self.events.events():
            result.setdefault(event.spec.name, []).append(event.labels)
        return result

    def render(self, openmetrics: bool = False) -> str:
        return render(self.store, openmetrics=openmetrics)

    async def __aenter__(self) -> SourceHarness:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        if self._session is not None:
            await self._session.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._tmp is not None:
            self._tmp.cleanup()
