"""The bridge webhook reads the whole body, however many reads it takes, and no more.

The daemon runs in-process (real aiohttp server on 127.0.0.1, real auth); bodies are sent
chunked, in pieces with pauses, so they reach the handler in several socket reads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

import sitroom_social
from sitroom.daemon import Daemon
from sitroom.plugins import load_plugins

TOKEN = "social-body-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
LIMIT = 256 * 1024


@pytest.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    conf = tmp_path / "conf.d"
    conf.mkdir()
    (tmp_path / "token").write_text(TOKEN + "\n")
    doc = {
        "daemon": {"listen": "127.0.0.1:0", "state_dir": str(tmp_path / "state"),
                   "auth": {"token_file": str(tmp_path / "token")},
                   "limits": {"shutdown_timeout": "3s"}},
        "sources": [{"kind": "social_webhook", "name": "bridge", "max_body_bytes": LIMIT}],
    }
    (conf / "00-all.yaml").write_text(yaml.safe_dump(doc))
    plugins = load_plugins(use_entry_points=False, extra=[("social", sitroom_social)])
    daemon = Daemon(conf, plugins=plugins)
    await daemon.start()
    try:
        host, port = daemon.bound_addresses[0]
        yield f"http://{host}:{port}"
    finally:
        await daemon.stop()


def payload(count: int, filler: int) -> bytes:
    posts = [{"id": f"p-{i}", "text": f"Banjir di Kaligawe nomor {i} " + "air " * filler}
             for i in range(count)]
    return json.dumps({"posts": posts}).encode()


async def pieces(body: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]
        await asyncio.sleep(0.005)  # the handler sees this piece before the next is sent


async def test_body_larger_than_one_read_is_accepted(base_url: str) -> None:
    body = payload(40, 1000)  # ~160 KiB: ten pieces, under the 256 KiB limit
    assert 100 * 1024 < len(body) < LIMIT
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base_url}/api/v1/social/bridge", data=pieces(body),
                                headers=AUTH) as response:
            answer = await response.json()
            assert response.status == 200, answer
        assert answer == {"accepted": 40, "duplicates": 0, "matched": 40}
        async with session.get(f"{base_url}/api/v1/social/recent?limit=100",
                               headers=AUTH) as response:
            assert len((await response.json())["posts"]) == 40


async def test_body_past_the_limit_is_refused_sent_chunked_or_declared(base_url: str) -> None:
    body = payload(80, 1000)  # ~320 KiB
    assert len(body) > LIMIT
    url = f"{base_url}/api/v1/social/bridge"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=pieces(body), headers=AUTH) as response:
            assert response.status == 413
        async with session.post(url, data=body, headers=AUTH) as response:
            assert response.status == 413
        async with session.get(f"{base_url}/metrics") as response:
            text = await response.text()
    rejected = [line for line in text.splitlines()
                if line.startswith("sitroom_social_rejected_total")
                and 'reason="too_large"' in line]
    assert rejected and float(rejected[0].rsplit(" ", 1)[1]) == 2
