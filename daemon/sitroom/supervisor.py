"""One task per source: polling on an interval, reconnecting streams, backing off on failure.

Modelled on Home Assistant's DataUpdateCoordinator: a source that starts failing is logged
once with the reason, each further failure only at debug, and the recovery once again. Every
poll is bounded by its timeout, and stopping a source never waits on it longer than a
deadline, so one hung device cannot stall a reload or a shutdown.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from sitroom import selfmetrics as sm
from sitroom.context import SourceContext
from sitroom.declarations import PollingSource, Source, SourceError, SourceKind, StreamingSource
from sitroom.metrics.store import MetricWriter
from sitroom.secrets import redactor

STREAM_BASE_DELAY = 1.0


def backoff_delay(
    failures: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random.

    The fixed half guarantees a device is not hammered; the random half keeps a thousand
    cameras that dropped together from reconnecting in lockstep.
    """
    if failures <= 0:
        return base
    delay = min(cap, base * 2.0 ** (failures - 1))
    return delay / 2 + (rng or random).random() * delay / 2


def error_reason(exc: BaseException) -> str:
    if isinstance(exc, SourceError):
        return exc.reason
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionError | OSError):
        return "connect"
    return "internal"


class SourceRunner:
    """Runs one source and keeps its self-metrics and status up to date."""

    def __init__(
        self,
        kind: SourceKind,
        config: Any,
        ctx: SourceContext,
        core: MetricWriter,
        max_backoff: float = 300.0,
        plugin: str = "",
    ) -> None:
        self.kind = kind
        self.config = config
        self.ctx = ctx
        self.core = core
        self.max_backoff = max_backoff
        self.source: Source = kind.factory(config, ctx)
        self.task: asyncio.Task[None] | None = None
        self._labels = {"kind": kind.name, "source": config.name}
        self._failing_since: float | None = None
        self._stopped = False
        ctx.on_success(self._stream_success)
        core.set(sm.SOURCE_UP, 0, **self._labels)
        core.info(sm.SOURCE_INFO, plugin=plugin, **self._labels)
        core.inc(sm.SOURCE_ERRORS, 0, reason="timeout", **self._labels)

    @property
    def name(self) -> str:
        return str(self.config.name)

    def start(self) -> None:
        loop = self._poll_loop if isinstance(self.source, PollingSource) else self._stream_loop
        if not isinstance(self.source, PollingSource | StreamingSource):
            raise TypeError(f"{self.kind.name}: factory must return a Polling/StreamingSource")
        self.task = asyncio.get_running_loop().create_task(loop(), name=f"source:{self.name}")

    async def stop(self, deadline: float) -> bool:
        """Cancel and wait at most `deadline` seconds; True if it stopped in time.

        From here on the runner and its writer ignore writes: a task that overran the
        deadline must not resurrect series the daemon is about to drop, nor write into a
        successor that reuses the name.
        """
        self._stopped = True
        self.ctx.metrics.close()
        self.ctx.events.close()
        self.ctx.detach()  # nor overwrite a successor's children
        stopped = True
        if self.task is not None and not self.task.done():
            self.task.cancel()
            done, _ = await asyncio.wait({self.task}, timeout=deadline)
            stopped = bool(done)
            if not stopped:
                self.ctx.log.error("source_stop_timeout", deadline_seconds=deadline)
        try:
            await asyncio.wait_for(self.source.close(), timeout=max(deadline, 0.1))
        except Exception as exc:  # closing must never stop a reload
            self.ctx.log.warning("source_close_failed", error=redactor.redact(str(exc)))
        self.ctx.status.state = "stopped"
        return stopped

    # -- state transitions ------------------------------------------------------------------

    def _success(self, duration: float | None = None) -> None:
        if self._stopped:
            return
        status = self.ctx.status
        now = time.time()
        if status.state == "failing":
            down_for = now - (self._failing_since or now)
            self.ctx.log.info(
                "source_recovered",
                failures=status.consecutive_failures,
                down_seconds=round(down_for, 1),
            )
        elif status.state == "starting":
            self.ctx.log.debug("source_up")  # a city has thousands: recoveries are what matter
        if status.state != "ok":
            self.ctx.events.health(True)
        status.state = "ok"
        status.last_success = now
        status.successes += 1
        status.consecutive_failures = 0
        self._failing_since = None
        self.core.set(sm.SOURCE_UP, 1, **self._labels)
        self.core.set(sm.SOURCE_LAST_SUCCESS, now, **self._labels)
        if duration is not None:
            self.core.observe(sm.SOURCE_DURATION, duration, **self._labels)

    def _stream_success(self) -> None:
        if self._stopped:
            return
        if self.ctx.status.state != "ok":
            self._success()
        else:
            self.core.set(
                sm.SOURCE_LAST_SUCCESS, self.ctx.status.last_success or 0, **self._labels
            )

    def _failure(self, exc: BaseException) -> None:
        if self._stopped:
            return
        status = self.ctx.status
        reason = error_reason(exc)
        message = redactor.redact(str(exc) or type(exc).__name__)
        status.consecutive_failures += 1
        status.last_error = message
        status.last_error_reason = reason
        status.last_error_at = time.time()
        self.core.set(sm.SOURCE_UP, 0, **self._labels)
        self.core.inc(sm.SOURCE_ERRORS, reason=reason, **self._labels)
        if status.state != "failing":
            self.ctx.events.health(False)
            self._failing_since = time.time()
            log_kwargs: dict[str, Any] = {"reason": reason, "error": message}
            if reason == "internal":  # a plugin bug: the traceback is what its author needs
                log_kwargs["exc_info"] = exc
            self.ctx.log.warning("source_failing", **log_kwargs)
        else:
            self.ctx.log.debug(
                "source_still_failing",
                reason=reason,
                error=message,
                failures=status.consecutive_failures,
            )
        status.state = "failing"

    # -- loops ------------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        source = self.source
        assert isinstance(source, PollingSource)
        interval = float(self.config.interval)
        timeout = float(self.config.timeout)
        next_run = time.monotonic()
        while True:
            started = time.monotonic()
            try:
                async with asyncio.timeout(timeout):
                    await source.collect()
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                self._failure(TimeoutError(f"collect took longer than {timeout}s"))
            except Exception as exc:
                self._failure(exc)
            else:
                self._success(time.monotonic() - started)
            failures = self.ctx.status.consecutive_failures
            if failures:
                delay = backoff_delay(failures, interval, max(self.max_backoff, interval))
                next_run = time.monotonic() + delay
            else:
                # fixed-rate schedule without drift; skip missed ticks instead of bursting
                next_run += interval
                if next_run < time.monotonic():
                    next_run = time.monotonic() + interval
            await asyncio.sleep(max(0.0, next_run - time.monotonic()))

    async def _stream_loop(self) -> None:
        source = self.source
        assert isinstance(source, StreamingSource)
        first = True
        while True:
            if not first:
                self.core.inc(sm.SOURCE_RESTARTS, **self._labels)
            first = False
            try:
                await source.run()
                raise SourceError("disconnected", "stream ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failure(exc)
            delay = backoff_delay(
                self.ctx.status.consecutive_failures, STREAM_BASE_DELAY, self.max_backoff
            )
            await asyncio.sleep(delay)
