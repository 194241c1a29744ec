"""A stand-in `camera` kind with the contract's config fields, for in-process publish tests.

The end-to-end tests (test_e2e.py) use the real camera kind from sitroom_cameras; this one
lets the API tests see exactly what the registry published without decoding video.
"""

from __future__ import annotations

import asyncio

from pydantic import Field, SecretStr

from sitroom.api import MetricSpec, SourceConfig, SourceKind, StreamingSource, hookimpl


class FakeCameraConfig(SourceConfig):
    kind: str = "camera"
    url: str
    username: SecretStr | None = None
    password: SecretStr | None = None
    pin_address: str | None = None
    follow_redirects: bool = False
    transport: str = "auto"
    district: str = ""
    latitude: float | None = None
    longitude: float | None = None
    owner_type: str = ""
    location: str = ""
    analysis_interval: float = Field(default=1.0, gt=0)


INFO = MetricSpec(
    "sitroom_fakecam_info",
    "info",
    "Fake camera description.",
    ("camera", "district", "owner_type", "location"),
)


class FakeCamera(StreamingSource):
    config: FakeCameraConfig
    started: list[FakeCameraConfig] = []

    async def run(self) -> None:
        c = self.config
        FakeCamera.started.append(c)
        self.metrics.info(
            INFO,
            camera=c.name,
            district=c.district,
            owner_type=c.owner_type,
            location=c.location,
        )
        self.ctx.mark_success()
        await asyncio.Event().wait()


class FakeCameraPlugin:
    @hookimpl
    def sitroom_source_kinds(self) -> list[SourceKind]:
        return [SourceKind("camera", FakeCameraConfig, FakeCamera, metrics=(INFO,))]
