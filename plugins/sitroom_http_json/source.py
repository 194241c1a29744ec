"""The `http_json` polling source: fetch (bounded), decode, map, write, forget vanished items."""

from __future__ import annotations

import json

from sitroom.api import PollingSource, SourceContext, SourceError, fetch_bytes
from sitroom_http_json.config import HttpJsonConfig
from sitroom_http_json.mapping import CompiledMapping, LabelSet, MappedMetric, apply
from sitroom_http_json.metrics import FIELD_ERRORS, MAPPED_SERIES, RESPONSE_SIZE

ERROR_REASONS = ("missing", "type", "label", "too_many_items", "duplicate")


class HttpJsonSource(PollingSource):
    config: HttpJsonConfig

    def __init__(self, config: HttpJsonConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self._compiled = [CompiledMapping.compile(m) for m in config.metrics]
        self._written: dict[str, set[LabelSet]] = {m.name: set() for m in config.metrics}
        self._specs = {m.name: m.spec() for m in config.metrics}  # declared by metrics_for
        self._last_problems: frozenset[tuple[str, str]] = frozenset()
        for mapping in config.metrics:  # zero counters exist from the start (rate() works)
            for reason in ERROR_REASONS:
                self.metrics.inc(FIELD_ERRORS, 0, metric=mapping.name, reason=reason)

    async def collect(self) -> None:
        body = await fetch_bytes(
            self.ctx.http(),
            str(self.config.url),
            time_limit=float(self.config.timeout),
            max_bytes=self.config.max_response_bytes,
            headers=self.config.headers,
        )
        self.metrics.set(RESPONSE_SIZE, len(body))
        # decoding and mapping a large feed is pure CPU: keep it off the event loop
        results = await self.ctx.run_blocking(self._map, body)
        problems: set[tuple[str, str]] = set()
        for compiled, mapped in zip(self._compiled, results, strict=True):
            name = compiled.mapping.name
            spec = self._specs[name]
            for labels, value in mapped.samples.items():
                self.metrics.set(spec, value, **dict(labels))
            for labels in self._written[name] - mapped.samples.keys():
                self.metrics.remove(spec, **dict(labels))  # item gone or unreadable now
            self._written[name] = set(mapped.samples)
            self.metrics.set(MAPPED_SERIES, len(mapped.samples), metric=name)
            for reason, count in mapped.errors.items():
                self.metrics.inc(FIELD_ERRORS, count, metric=name, reason=reason)
                problems.add((name, reason))
        self._report(frozenset(problems))

    def _map(self, body: bytes) -> list[MappedMetric]:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError("decode", f"response is not JSON ({type(exc).__name__})") from exc
        limit = self.config.max_label_length
        return [apply(compiled, document, limit) for compiled in self._compiled]

    def _report(self, problems: frozenset[tuple[str, str]]) -> None:
        """Log field problems when they change, not every poll (the counter has the rate)."""
        self.ctx.set_detail("field_problems", sorted(f"{m}:{r}" for m, r in problems))
        if problems != self._last_problems:
            if problems:
                self.log.warning(
                    "http_json_field_problems", problems=sorted(f"{m}:{r}" for m, r in problems)
                )
            else:
                self.log.info("http_json_field_problems_cleared")
            self._last_problems = problems
