"""What the core hands a running source: its metric writer, logger and a few capabilities.

A source reaches the rest of the daemon only through this object, which is what keeps
plugins from touching the registry, the loop's lifetime or each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiohttp
import structlog

from sitroom.events.manager import SourceEvents
from sitroom.metrics.store import MetricWriter

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class SourceStatus:
    """The health the supervisor tracks for one source (also shown by /api/v1/sources)."""

    state: str = "starting"  # starting | ok | failing | stopped
    last_success: float | None = None  # wall-clock seconds
    last_error: str | None = None
    last_error_reason: str | None = None
    last_error_at: float | None = None
    consecutive_failures: int = 0
    successes: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class SourceContext:
    """Per-source handle: `metrics`, `events`, `log`, `mark_success()`, `run_blocking()`,
    `http()`."""

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        metrics: MetricWriter,
        executor: Executor | None = None,
        http_factory: Callable[[], aiohttp.ClientSession] | None = None,
        state_dir: Path | None = None,
        publish: Callable[[str, list[dict[str, Any]]], Awaitable[None]] | None = None,
        on_success: Callable[[], None] | None = None,
        events: SourceEvents | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.metrics = metrics
        self.events = events if events is not None else SourceEvents(None, kind, name)
        self.log = structlog.get_logger("sitroom.source").bind(kind=kind, source=name)
        self.status = SourceStatus()
        self._executor = executor
        self._http_factory = http_factory
        self._state_dir = state_dir
        self._publish = publish
        self._on_success = on_success
        self._save_locks: dict[str, asyncio.Lock] = {}
        self._state_warned: set[str] = set()
        self._detached = False

    # -- for the supervisor -----------------------------------------------------------------

    def on_success(self, callback: Callable[[], None]) -> None:
        """The supervisor's hook: `mark_success()` also calls `callback` (up=1, recovery)."""
        self._on_success = callback

    def detach(self) -> None:
        """The source was stopped: from now on `publish_sources` and `mark_success` do
        nothing, so a task that overran its stop deadline cannot replace a successor's
        children or mark a source up that no longer runs."""
        self._publish = None
        self._on_success = None
        self._detached = True

    # -- for the source -----------------------------------------------------------------------

    def mark_success(self) -> None:
        """Streaming sources call this when data arrives: up=1, backoff reset, recovery logged.

        Polling sources need not call it; a `collect()` that returns is a success.
        """
        if self._detached:
            return
        self.status.last_success = time.time()
        if self._on_success is not None:
            self._on_success()

    def set_detail(self, key: str, value: Any) -> None:
        """Expose a small, non-secret fact in /api/v1/sources (e.g. resolution, codec)."""
        self.status.details[key] = value

    async def run_blocking(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run CPU-bound or blocking work (decoding, OpenCV) in the daemon's bounded pool.

        The pool is shared and bounded, so a thousand cameras queue rather than spawn a
        thousand threads; the event loop keeps serving scrapes meanwhile.
        """
        loop = asyncio.get_running_loop()
        if kwargs:
            return await loop.run_in_executor(self._executor, lambda: func(*args, **kwargs))
        return await loop.run_in_executor(self._executor, func, *args)

    def http(self) -> aiohttp.ClientSession:
        """The daemon's shared client session (connection pooling, sane default limits)."""
        if self._http_factory is None:
            raise RuntimeError("no HTTP client available in this context")
        return self._http_factory()

    def state_path(self, filename: str) -> Path:
        """A file under the daemon's state directory reserved for this source."""
        base = self._state_dir or Path(".sitroom-state")
        directory = base / self.kind
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f"{self.name}.{filename}"

    async def save_state_json(self, filename: str, data: Any) -> None:
        """Persist `data` as JSON under `state_path(filename)`, atomically and durably.

        Serialised here on the loop (so `data` may be live objects the loop keeps mutating),
        written in the worker pool: temp file, fsync, rename over the old file, fsync the
        directory. A crash at any point leaves either the old file or the new one, never an
        empty or half-written one. Raises OSError (e.g. disk full); the old file stays.
        """
        payload = json.dumps(data, separators=(",", ":")).encode("utf-8")
        path = self.state_path(filename)
        lock = self._save_locks.setdefault(filename, asyncio.Lock())
        async with lock:
            # shielded: a cancelled caller must not release the lock while the thread still
            # writes, or an older snapshot could be renamed over a newer one
            await asyncio.shield(self.run_blocking(_write_atomic, path, payload))

    def load_state_json(self, filename: str) -> Any | None:
        """What `save_state_json` stored, or None when there is none or it is unreadable.

        A corrupt or unreadable file means "start fresh", not a crash; it is logged once per
        file and context, so a source retrying every few seconds does not flood the log.
        The files are small and read once at start, so this reads synchronously.
        """
        path = self.state_path(filename)
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            if filename not in self._state_warned:
                self._state_warned.add(filename)
                self.log.warning("state_file_unreadable", file=path.name,
                                 error=type(exc).__name__)
            return None

    async def publish_sources(self, configs: list[dict[str, Any]]) -> None:
        """Replace the set of child sources this source manages (e.g. approved cameras).

        The core validates each config with its kind's model, applies sharding and starts,
        restarts or stops children as needed, without a daemon restart.
        """
        if self._detached:
            return  # a stopped source's children are no longer its to set
        if self._publish is None:
            raise RuntimeError("this context cannot publish sources")
        await self._publish(self.name, configs)


def _write_atomic(path: Path, payload: bytes) -> None:
    """Blocking: temp file in the same directory + fsync + rename + directory fsync."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp: mode 0600, state is nobody else's
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
