"""Fixtures for core tests: a config-dir writer and an in-process daemon with test kinds."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

FIXTURES = Path(__file__).parent / "plugin_fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

import sitroom_testkinds  # noqa: E402
from sitroom.daemon import Daemon  # noqa: E402
from sitroom.plugins import load_plugins  # noqa: E402

WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write conf.d-style files: `write_config(sources=[...], daemon={...}, name="x.yaml")`."""
    config_dir = tmp_path / "conf.d"
    config_dir.mkdir(exist_ok=True)

    def write(sources: list[dict[str, Any]] | None = None, daemon: dict[str, Any] | None = None,
              name: str = "10-sources.yaml", raw: str | None = None) -> Path:
        path = config_dir / name
        if raw is not None:
            path.write_text(raw)
            return config_dir
        doc: dict[str, Any] = {}
        if daemon is not None:
            doc["daemon"] = daemon
        if sources is not None:
            doc["sources"] = sources
        path.write_text(yaml.safe_dump(doc))
        return config_dir

    return write


def make_test_plugins():
    """Test kinds only: the built-in plugins are covered by their own tests."""
    return load_plugins(extra=[("testkinds", sitroom_testkinds)], use_entry_points=False)


class RunningDaemon:
    def __init__(self, daemon: Daemon, session: aiohttp.ClientSession) -> None:
        self.daemon = daemon
        self.session = session
        host, port = daemon.bound_addresses[0]
        self.url = f"http://{host}:{port}"

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.get(self.url + path, **kwargs) as response:
            return response.status, await response.text()

    async def post(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.post(self.url + path, **kwargs) as response:
            return response.status, await response.text()


@pytest.fixture
async def start_daemon() -> AsyncIterator[Callable[..., Any]]:
    started: list[Daemon] = []
    session = aiohttp.ClientSession()

    async def start(config_dir: Path, shard: tuple[int, int] | None = None) -> RunningDaemon:
        daemon = Daemon(config_dir, listen="127.0.0.1:0", shard=shard, plugins=make_test_plugins())
        await daemon.start()
        started.append(daemon)
        return RunningDaemon(daemon, session)

    yield start
    for daemon in started:
        await daemon.stop()
    await session.close()
