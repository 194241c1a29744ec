"""Cameras: stream health and video analytics for the city's CCTV (OpenCV + PyAV).

One `camera` source per camera, over RTSP, HLS, HTTP MJPEG, HTTP(S) JPEG snapshots or a local
file (demo). See README.md for config, metrics, limits and the CPU cost per camera.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sitroom.api import Route, SimulatorSpec, SourceKind, hookimpl
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.events import CAMERA_DOWN, EVENTS
from sitroom_cameras.metrics import HLS_METRICS, METRICS

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI, SourceContext
    from sitroom_cameras.source import CameraSource


def _factory(config: CameraConfig, ctx: SourceContext) -> CameraSource:
    from sitroom_cameras.source import CameraSource

    return CameraSource(config, ctx)


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind(
            name="camera",
            config_model=CameraConfig,
            factory=_factory,
            metrics=(*METRICS, *HLS_METRICS),
            events=EVENTS,
            down_event=CAMERA_DOWN,
            description="A CCTV camera: stream health, motion, tamper, people, lane occupancy.",
        )
    ]


@hookimpl
def sitroom_routes(daemon: DaemonAPI) -> list[Route]:
    from sitroom_cameras import pages, routes

    return routes.routes(daemon) + pages.routes(daemon)


@hookimpl
def sitroom_templates() -> list[Path]:
    return [Path(__file__).parent / "templates"]


@hookimpl
def sitroom_simulators() -> list[SimulatorSpec]:
    from sitroom_cameras.hls_sim import HlsSimulatorConfig, run_hls_simulator
    from sitroom_cameras.simulator import CameraSimulatorConfig, run_camera_simulator

    return [
        SimulatorSpec(
            name="cameras",
            config_model=CameraSimulatorConfig,
            run=run_camera_simulator,
            description="Loopback HTTP cameras (MJPEG stream and JPEG snapshot) for the demo.",
        ),
        SimulatorSpec(
            name="hls_camera",
            config_model=HlsSimulatorConfig,
            run=run_hls_simulator,
            description="A live HLS camera on loopback: ffmpeg segments the shipped footage.",
        ),
    ]


@hookimpl
def sitroom_cli(subparsers: argparse._SubParsersAction) -> None:
    from sitroom_cameras.cli import add_parser

    add_parser(subparsers)
