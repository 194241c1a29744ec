"""Fixtures: a real JPEG camera on loopback, and the daemon with the registry in-process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest
import yaml
from aiohttp import web

import sitroom_registry
from sitroom.daemon import Daemon
from sitroom.plugins import load_plugins
from tests.postgres import PostgresServer, postgres_server
from tests.registry.fakecam import FakeCamera, FakeCameraPlugin

TOKEN = "test-token-0123456789abcdef"
SECRET_PASSWORD = "s3cret-Pa55word-xyz"
SECRET_PHONE = "+6281234567890"
SECRET_EMAIL = "pemilik.rahasia@example.id"


def make_jpeg(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    """A real JPEG (OpenCV-encoded gradient with noise), not a header-only stub."""
    rng = np.random.default_rng(seed)
    ramp = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    image = np.dstack([ramp, ramp[::-1], rng.integers(0, 255, (height, width), dtype=np.uint8)])
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data)


@dataclass
class CameraServer:
    """A loopback HTTP camera: `/snap.jpg` (Basic auth optional), MJPEG, redirects, junk."""

    port: int = 0
    hits: list[str] = field(default_factory=list)
    auth: tuple[str, str] | None = None
    redirect_to: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _camera_app(server: CameraServer) -> web.Application:
    jpeg = make_jpeg()

    async def snap(request: web.Request) -> web.StreamResponse:
        server.hits.append(request.path)
        if server.auth is not None:
            expected = aiohttp.encode_basic_auth(*server.auth)
            if request.headers.get("Authorization") != expected:
                return web.Response(status=401, headers={"WWW-Authenticate": "Basic"})
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def mjpeg(request: web.Request) -> web.StreamResponse:
        server.hits.append(request.path)
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
        )
        await response.prepare(request)
        for _ in range(3):
            await response.write(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n")
            await asyncio.sleep(0.05)
        return response

    async def redirect(request: web.Request) -> web.StreamResponse:
        server.hits.append(request.path)
        raise web.HTTPFound(server.redirect_to)

    async def text(request: web.Request) -> web.StreamResponse:
        server.hits.append(request.path)
        return web.Response(text="<html>not a camera</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/snap.jpg", snap)
    app.router.add_get("/cgi-bin/snapshot.cgi", snap)
    app.router.add_get("/video.mjpg", mjpeg)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/index.html", text)
    return app


@pytest.fixture
async def camera_server() -> AsyncIterator[CameraServer]:
    server = CameraServer()
    runner = web.AppRunner(await _camera_app(server))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield server
    await runner.cleanup()


def registry_source(port: int, **overrides: Any) -> dict[str, Any]:
    source: dict[str, Any] = {
        "kind": "camera_registry",
        "name": "registry",
        "allow_networks": ["127.0.0.1/32"],
        "allowed_ports": [80, 554, port],
        "refresh_interval": "200ms",
        "probe_timeout": "5s",
        "camera_defaults": {"analysis_interval": 1.0},
    }
    source.update(overrides)
    return source


def write_config(directory: Path, sources: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(TOKEN + "\n")
    daemon = {
        "listen": "127.0.0.1:0",
        "state_dir": str(directory / "state"),
        "auth": {"token_file": str(directory / "token")},
        "limits": {"shutdown_timeout": "3s"},
    }
    (directory / "00-daemon.yaml").write_text(yaml.safe_dump({"daemon": daemon}))
    (directory / "25-registry.yaml").write_text(yaml.safe_dump({"sources": sources}))
    return directory


def form(port: int, **overrides: Any) -> dict[str, Any]:
    """A valid registration for the loopback camera (password and contacts are 'secret')."""
    data: dict[str, Any] = {
        "owner_name": "Toko Sumber Rejeki",
        "contact_phone": SECRET_PHONE,
        "contact_email": SECRET_EMAIL,
        "owner_type": "business",
        "address": "Jl. Pandanaran No. 12",
        "district": "Semarang Tengah",
        "location_name": "Simpang Lima selatan",
        "latitude": -6.99,
        "longitude": 110.42,
        "stream": {
            "protocol": "http",
            "host": "127.0.0.1",
            "port": port,
            "path": "/snap.jpg",
            "username": "admin",
            "password": SECRET_PASSWORD,
        },
        "consent": True,
    }
    data.update(overrides)
    return data


class Api:
    """A small client for the in-process daemon's HTTP API."""

    def __init__(self, daemon: Daemon, session: aiohttp.ClientSession) -> None:
        self.daemon = daemon
        self.session = session
        host, port = daemon.bound_addresses[0]
        self.base = f"http://{host}:{port}"

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: bool = True,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {TOKEN}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        async with self.session.request(
            method, self.base + path, data=data, headers=hdrs
        ) as response:
            text = await response.text()
            try:
                payload = json.loads(text)
            except json.JSONDecodeError:
                payload = text
            return response.status, payload, dict(response.headers)

    async def metrics(self) -> str:
        async with self.session.get(self.base + "/metrics") as response:
            return await response.text()

    async def wait_status(self, reg_id: str, status: str, within: float = 10.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            code, row, _ = await self.request("GET", f"/api/v1/cameras/{reg_id}")
            if code == 200 and row["status"] == status:
                return row
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{reg_id} never reached {status}: {code} {row}")
            await asyncio.sleep(0.05)


class TestDns:
    """The registries' resolver in these tests: a table, never the network.

    Each name maps to a list of answers; consecutive lookups take them in turn (the last
    one repeats), which is how a test plays a DNS server that changes its mind.
    """

    def __init__(self) -> None:
        self.table: dict[str, list[list[str]]] = {}
        self.calls: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        answers = self.table.get(host)
        if not answers:
            raise OSError("NXDOMAIN (test resolver)")
        return answers.pop(0) if len(answers) > 1 else answers[0]


DNS = TestDns()


async def start_daemon(config_dir: Path, shard: tuple[int, int] | None = None) -> Daemon:
    plugins = load_plugins(
        use_entry_points=False,
        extra=[("registry", sitroom_registry), ("fakecam", FakeCameraPlugin())],
    )
    daemon = Daemon(config_dir, shard=shard, plugins=plugins)
    await daemon.start()
    for source in daemon.api.sources(kind="camera_registry"):
        source.guard.resolver = DNS  # type: ignore[attr-defined]
    registry = daemon.api.source("registry", kind="camera_registry")
    assert registry is not None
    for _ in range(200):
        if registry._store is not None:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.02)
    return daemon


@pytest.fixture
async def api(tmp_path: Path, camera_server: CameraServer) -> AsyncIterator[Api]:
    FakeCamera.started.clear()
    DNS.table.clear()
    DNS.calls.clear()
    config_dir = write_config(tmp_path / "conf", [registry_source(camera_server.port)])
    daemon = await start_daemon(config_dir)
    async with aiohttp.ClientSession() as session:
        yield Api(daemon, session)
    await daemon.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL per test session (per xdist worker); each test takes a database."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def backend_config(
    kind: str, directory: Path, server: PostgresServer | None
) -> dict[str, Any]:
    """The registry source's config keys for a backend (empty: the SQLite default)."""
    if kind == "sqlite":
        return {}
    assert server is not None
    return {
        "postgresql": {
            "dsn": server.dsn(server.new_database()),
            "password_file": str(server.password_file(directory)),
        }
    }
