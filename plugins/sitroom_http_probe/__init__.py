"""HTTP probe: is a city web service answering, how fast, and with what status?

The first built-in plugin and the smallest complete example of the plugin API: one polling
kind, a config model, declared metrics, and a hookimpl. Read this before writing a plugin.
"""

from __future__ import annotations

import time
from typing import Annotated

import aiohttp
from pydantic import Field, HttpUrl, field_validator

from sitroom.api import (
    MetricSpec,
    PollingSource,
    SimulatorSpec,
    SourceConfig,
    SourceError,
    SourceKind,
    hookimpl,
    redact_url,
)


class HttpProbeConfig(SourceConfig):
    kind: str = "http_probe"
    url: HttpUrl
    method: str = Field(default="GET", pattern="^(GET|HEAD)$")
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        default_factory=lambda: [200], min_length=1, max_length=500)
    follow_redirects: bool = False
    max_body_bytes: int = Field(default=1_048_576, ge=0, le=1_073_741_824)
    target: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$")
    """The `target` label: a short name, never the URL (defaults to the source's name).

    A URL in a public label leaks whatever its query or path parameters carry (session ids,
    signatures, tokens); token holders see the redacted URL in `/api/v1/sources`."""

    @field_validator("target")
    @classmethod
    def _not_a_url(cls, value: str | None) -> str | None:
        if value is not None and "://" in value:
            raise ValueError("must be a short name, not a URL")
        return value

    @property
    def target_label(self) -> str:
        return self.target or self.name


LABELS = ("target",)
SUCCESS = MetricSpec(
    "sitroom_http_probe_success",
    "gauge",
    "1 if the last probe got an expected status in time.",
    LABELS,
)
DURATION = MetricSpec(
    "sitroom_http_probe_duration_seconds",
    "gauge",
    "Time from request to the end of the response body.",
    LABELS,
    unit="seconds",
)
STATUS_CODE = MetricSpec(
    "sitroom_http_probe_status_code", "gauge", "HTTP status code of the last response.", LABELS
)
RESPONSE_SIZE = MetricSpec(
    "sitroom_http_probe_response_size_bytes",
    "gauge",
    "Bytes of body read (capped at max_body_bytes).",
    LABELS,
    unit="bytes",
)
METRICS = (SUCCESS, DURATION, STATUS_CODE, RESPONSE_SIZE)


class HttpProbe(PollingSource):
    config: HttpProbeConfig

    async def collect(self) -> None:
        target = self.config.target_label
        shown = redact_url(str(self.config.url))  # error text: token holders only
        started = time.perf_counter()
        # pessimistic first: a timeout or cancellation must leave "failed", not the last success
        self.metrics.set(SUCCESS, 0, target=target)
        try:
            async with self.ctx.http().request(
                self.config.method,
                str(self.config.url),
                allow_redirects=self.config.follow_redirects,
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            ) as response:
                size = 0
                async for chunk in response.content.iter_chunked(65536):
                    size += len(chunk)
                    if size >= self.config.max_body_bytes:
                        break
                status = response.status
        except aiohttp.ClientError as exc:
            raise SourceError("connect", f"{shown}: {type(exc).__name__}") from exc
        elapsed = time.perf_counter() - started
        ok = status in self.config.expect_status
        self.metrics.set(SUCCESS, 1 if ok else 0, target=target)
        self.metrics.set(DURATION, elapsed, target=target)
        self.metrics.set(STATUS_CODE, status, target=target)
        self.metrics.set(RESPONSE_SIZE, size, target=target)
        if not ok:
            raise SourceError("status", f"{shown}: unexpected status {status}")


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind(
            name="http_probe",
            config_model=HttpProbeConfig,
            factory=HttpProbe,
            metrics=METRICS,
            description="Probes an HTTP(S) endpoint: status, latency, size.",
        )
    ]


@hookimpl
def sitroom_simulators() -> list[SimulatorSpec]:
    from sitroom_http_probe.simulator import WebServiceSimulatorConfig, run_web_service

    return [
        SimulatorSpec(
            name="webservice",
            config_model=WebServiceSimulatorConfig,
            run=run_web_service,
            description="A city web portal on loopback for the demo's HTTP probes.",
        )
    ]
