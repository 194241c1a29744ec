"""What a plugin declares: metric families, source kinds, routes, simulators, and the
narrow view of the daemon its hooks receive.

A plugin returns these objects from its hooks; the core does everything else (task lifetime,
Prometheus exposition, HTTP serving). Keeping them plain frozen dataclasses means a plugin can
be read top to bottom without knowing the core's internals. Plugins import them through
`sitroom.api`, never from here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel

from sitroom.events.spec import EventSpec

if TYPE_CHECKING:
    from aiohttp import web

    from sitroom.context import SourceContext

MetricType = Literal["gauge", "counter", "info", "histogram"]

_METRIC_NAME = re.compile(r"^sitroom_[a-z][a-z0-9_]*$")
_STANDARD_NAME = re.compile(r"^(process|python)_[a-z][a-z0-9_]*$")  # every exporter's, core only
_LABEL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_RESERVED_LABELS = frozenset({"source", "kind", "le", "quantile", "job", "instance"})
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class MetricSpec:
    """A metric family a source kind may emit.

    `name` is the exposed sample name: counters end in `_total`, info metrics in `_info`, as
    promtool expects. The core adds the `source` label itself, so `labels` lists only the
    entity labels (`camera`, `pump`, `sensor`, ...). Declaring metrics up front lets the core
    reject typos at write time, generate docs and dashboards, and bound cardinality.
    """

    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...] = ()
    unit: str = ""
    buckets: tuple[float, ...] = DEFAULT_BUCKETS
    builtin: bool = False
    """Core self-metrics only: they carry `kind`/`source` themselves instead of by the core."""
    keep_when_stale: bool = False
    """Push sources expire silent gauges; set this on gauges that must outlive silence
    (a sensor's last-seen timestamp). Counters and info series never expire."""

    def __post_init__(self) -> None:
        if not (_METRIC_NAME.match(self.name)
                or (self.builtin and _STANDARD_NAME.match(self.name))):
            raise ValueError(f"metric {self.name!r}: names must match {_METRIC_NAME.pattern}")
        if self.type == "counter" and not self.name.endswith("_total"):
            raise ValueError(f"counter {self.name!r} must end in _total")
        if self.type != "counter" and self.name.endswith("_total"):
            raise ValueError(f"{self.type} {self.name!r} must not end in _total")
        if self.type == "info" and not self.name.endswith("_info"):
            raise ValueError(f"info metric {self.name!r} must end in _info")
        if not self.help.strip():
            raise ValueError(f"metric {self.name!r} needs help text")
        if self.unit and self.type != "info" and self.unit not in self.family_name:
            raise ValueError(f"metric {self.name!r} must contain its unit {self.unit!r}")
        for label in self.labels:
            reserved = label in _RESERVED_LABELS and not (
                self.builtin and label in ("kind", "source")
            )
            if not _LABEL_NAME.match(label) or reserved:
                raise ValueError(f"metric {self.name!r}: invalid or reserved label {label!r}")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"metric {self.name!r}: duplicate label names")
        if self.type == "histogram" and list(self.buckets) != sorted(set(self.buckets)):
            raise ValueError(f"histogram {self.name!r}: buckets must be increasing")

    @property
    def owner_labels(self) -> tuple[str, ...]:
        """Labels the core prepends: `source` for plugin metrics, none for builtin ones."""
        return () if self.builtin else ("source",)

    @property
    def label_names(self) -> tuple[str, ...]:
        return self.owner_labels + self.labels

    @property
    def family_name(self) -> str:
        """The OpenMetrics family name (without the `_total`/`_info` sample suffix)."""
        if self.type == "counter":
            return self.name[: -len("_total")]
        if self.type == "info":
            return self.name[: -len("_info")]
        return self.name


class Source:
    """Base of every running source. Subclass `PollingSource` or `StreamingSource`.

    The constructor must not do I/O: the core may build a source only to compare it, and
    construction happens on the event loop. Open connections in `collect()`/`run()`.
    """

    def __init__(self, config: Any, ctx: SourceContext) -> None:
        self.config = config
        self.ctx = ctx
        self.metrics = ctx.metrics
        self.log = ctx.log

    async def close(self) -> None:
        """Release connections. Called once when the source stops (reload, shutdown)."""


class PollingSource(Source):
    """A source the core calls every `interval`, each call bounded by `timeout`."""

    mode: ClassVar[str] = "poll"

    async def collect(self) -> None:
        """Read the device once and write values through `self.metrics`.

        Raise `SourceError(reason, ...)` on failure: the core marks the source down, counts
        the error by reason, and retries with backoff.
        """
        raise NotImplementedError


class StreamingSource(Source):
    """A source that holds a connection open (MQTT, RTSP) or receives pushes (HTTP ingest)."""

    mode: ClassVar[str] = "stream"

    async def run(self) -> None:
        """Run until cancelled. Call `self.ctx.mark_success()` whenever data arrives.

        Returning or raising counts as a disconnect: the core reconnects with backoff.
        """
        raise NotImplementedError


class SourceError(Exception):
    """A failure with a low-cardinality reason (`connect`, `timeout`, `protocol`, `decode`)."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


SourceFactory = Callable[[Any, "SourceContext"], Source]


@dataclass(frozen=True)
class SourceKind:
    """One kind of data source a plugin contributes (e.g. `camera`, `modbus_pump_station`).

    `push=True` marks kinds fed from outside (MQTT, HTTP ingest): their series expire after
    the source config's `stale_after`, so a silent sensor never shows a stale value.
    `every_shard=True` runs a source on every `--shard` replica instead of one: for sources
    that publish child sources (the camera registry), whose children are then sharded like
    any source; with the parent on one replica only, children hashed elsewhere would run
    nowhere.
    """

    name: str
    config_model: type[BaseModel]
    factory: SourceFactory
    metrics: Sequence[MetricSpec] = ()
    description: str = ""
    push: bool = False
    every_shard: bool = False
    events: Sequence[EventSpec] = ()
    """Events its sources may raise through `ctx.events` (pushed to Alertmanager/MQTT)."""
    down_event: EventSpec | None = None
    """Optional: an event the core itself raises while a source of this kind is failing
    (after the spec's hold) and clears when it recovers, e.g. CameraDown. Its texts get
    the field `source`."""
    metrics_for: Callable[[Any], Sequence[MetricSpec]] | None = None
    """Optional: families one source adds from its own config (a generic JSON poller whose
    users name their metrics). Called with the validated config; the result extends
    `metrics` for that source only. `metrics` stays the fixed part `sitroom metrics` lists."""

    def __post_init__(self) -> None:
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"kind {self.name!r} declares a metric twice")
        events = [e.name for e in self.all_events]
        if len(set(events)) != len(events):
            raise ValueError(f"kind {self.name!r} declares an event twice")

    @property
    def all_events(self) -> tuple[EventSpec, ...]:
        return (*self.events, *((self.down_event,) if self.down_event else ()))

    def metrics_of(self, config: Any) -> tuple[MetricSpec, ...]:
        """Every family one source of this kind may write: the fixed ones plus its own."""
        specs = tuple(self.metrics)
        if self.metrics_for is None:
            return specs
        extra = tuple(self.metrics_for(config))
        names = [m.name for m in specs + extra]
        if len(set(names)) != len(names):
            raise ValueError(f"kind {self.name!r}: a configured metric repeats a declared name")
        return specs + extra


Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]


@dataclass(frozen=True)
class Route:
    """An HTTP route a plugin serves: an API route under `/api/v1/`, or a page.

    Who may call it: `auth=False` makes it public (the plugin then rate-limits it itself);
    otherwise `scope` names the least scope needed (`viewer`: console and images,
    `operator`: registrations, `admin`: reload, ingest; the default, so a route that forgets
    to say stays closed). A bearer token or a console session (cookie) proves the scope; a
    session must also carry the CSRF token on anything but GET/HEAD.

    `page=True` routes are HTML pages and may live anywhere but the core's own paths; a
    page that needs a scope sends a visitor without a session to the login page; `nav`
    puts it in the menu (public pages for everyone, others once logged in).
    """

    method: str
    path: str
    handler: Handler
    auth: bool = True
    scope: str = "admin"
    page: bool = False
    nav: tuple[str, str] | None = None  # a page's menu label (Indonesian, English)

    def __post_init__(self) -> None:
        if self.scope not in ("viewer", "operator", "admin"):
            raise ValueError(f"route {self.path!r}: scope must be viewer, operator or admin")
        if self.page:
            reserved = ("/api/", "/-/", "/metrics", "/static/", "/login", "/logout", "/lang/")
            if not self.path.startswith("/") or self.path.startswith(reserved):
                raise ValueError(f"page {self.path!r} may not use a core path")
        elif not self.path.startswith("/api/v1/"):
            raise ValueError(f"plugin route {self.path!r} must live under /api/v1/")

    @property
    def needs(self) -> str | None:
        """The scope a caller must hold, or None for a public route."""
        return self.scope if self.auth else None


SimulatorRunner = Callable[[Any], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class SimulatorSpec:
    """A loopback network peer that behaves like real devices, for demos and tests.

    `run(config)` serves until cancelled. The daemon starts the simulators its config's
    `simulators:` section names, and `sitroom simulate NAME` runs one on its own.
    """

    name: str
    config_model: type[BaseModel]
    run: SimulatorRunner
    description: str = ""


class DaemonAPI(Protocol):
    """The face of the running daemon that `sitroom_routes`, `sitroom_startup` and
    `sitroom_shutdown` receive: find live sources, and the directories they live by.

    A Protocol, so a plugin's own tests can pass any object with these members.
    """

    def source(self, name: str, kind: str | None = None) -> Source | None:
        """The running source called `name` (of `kind`, when given), or None."""
        ...

    def sources(self, kind: str | None = None) -> list[Source]:
        """Every running source, or those of one kind."""
        ...

    @property
    def config_dir(self) -> Path:
        """The directory the config was read from (relative paths resolve against it)."""
        ...

    @property
    def state_dir(self) -> Path:
        """Where sources keep small state files (fixed for the daemon's lifetime)."""
        ...
