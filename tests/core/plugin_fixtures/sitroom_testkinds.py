"""Source kinds with known behaviour, installed as a third-party plugin for core tests.

Loaded through a `.dist-info` entry point on PYTHONPATH, exactly like a real plugin.
"""

from __future__ import annotations

import asyncio

from pydantic import Field, SecretStr

from sitroom.api import (
    MetricSpec,
    PollingSource,
    SourceConfig,
    SourceError,
    SourceKind,
    StreamingSource,
    hookimpl,
)

TICKS = MetricSpec("sitroom_test_ticks_total", "counter", "Polls so far.", ("item",))
ITEM_VALUE = MetricSpec("sitroom_test_item_value", "gauge", "One series per item.", ("item",))
PUSH_VALUE = MetricSpec("sitroom_test_push_value", "gauge", "A pushed value.", ("item",))
PUSH_SEEN = MetricSpec("sitroom_test_push_seen_timestamp_seconds", "gauge", "Last push.",
                       ("item",), unit="seconds", keep_when_stale=True)
TICK_METRICS = (TICKS, ITEM_VALUE)
PUSH_METRICS = (PUSH_VALUE, PUSH_SEEN)


class TickConfig(SourceConfig):
    kind: str = "tick"
    step: float = 1.0
    password: SecretStr | None = None
    series: int = Field(default=1, ge=0)


class Tick(PollingSource):
    """Counts its own polls; `series` extra series test the cardinality limit."""

    async def collect(self) -> None:
        self.metrics.inc(TICKS, self.config.step, item="main")
        for index in range(self.config.series):
            self.metrics.set(ITEM_VALUE, index, item=f"i{index}")
        if self.config.password is not None:
            self.log.info("tick_with_password", password=self.config.password.get_secret_value())


class Fail(PollingSource):
    async def collect(self) -> None:
        raise SourceError("protocol", "device answered garbage")


class Crash(PollingSource):
    async def collect(self) -> None:
        raise ZeroDivisionError("plugin bug")


class Hang(PollingSource):
    async def collect(self) -> None:
        await asyncio.Event().wait()


class Push(StreamingSource):
    async def run(self) -> None:
        self.metrics.set(PUSH_VALUE, 1, item="main")
        self.metrics.set(PUSH_SEEN, 1, item="main")
        self.ctx.mark_success()
        await asyncio.Event().wait()




class PlainConfig(SourceConfig):
    pass


def broken_factory(config: PlainConfig, ctx: object) -> PollingSource:
    raise RuntimeError("factory bug")


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind("tick", TickConfig, Tick, TICK_METRICS),
        SourceKind("fail", PlainConfig, Fail, ()),
        SourceKind("crash", PlainConfig, Crash, ()),
        SourceKind("hang", PlainConfig, Hang, ()),
        SourceKind("push", PlainConfig, Push, PUSH_METRICS, push=True),
        SourceKind("broken_factory", PlainConfig, broken_factory, ()),
    ]
