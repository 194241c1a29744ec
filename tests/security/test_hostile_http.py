"""Every HTTP input path answers malformed input with a 4xx, never a 500 (issue 16).

One in-process daemon with every built-in plugin and each kind that takes a body: the public
registration form and the admin edit (registry), flood HTTP ingest, the social webhook. Each
gets the same hostile bodies: deep nesting, lone surrogates, integers too big for a float,
NaN, wrong types, binary junk.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml

from sitroom.daemon import Daemon
from tests.support import sample_value

TOKEN = "hostile-http-token-5d1e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

HOSTILE: dict[str, bytes] = {
    "deep-array": b"[" * 8000 + b"]" * 8000,
    "deep-object": b'{"a":' * 8000 + b"1" + b"}" * 8000,
    "lone-surrogate": b'{"sensor": "\\ud800", "text": "\\udfff", "id": "\\ud83d", '
                      b'"owner_name": "\\ud800\\ud800", "posts": [{"id": "\\ud800", '
                      b'"text": "banjir \\udc00"}]}',
    "lone-surrogate-only": b'{"posts": [{"id": "a\\ud800", "text": "banjir \\udc00"}], '
                           b'"sensor": "bkb\\udfff", "level": 1}',
    "huge-int": b'{"sensor": "bkb", "level": ' + b"9" * 500 + b', "ts": ' + b"9" * 500
                + b', "latitude": ' + b"9" * 500 + b', "posts": [{"id": "1", "text": "banjir",'
                b' "created_at": ' + b"9" * 500 + b"}]}",
    "nan": b'{"sensor": "bkb", "level": NaN, "latitude": NaN, "posts": [{"id": "1", '
           b'"text": "banjir", "created_at": NaN}]}',
    "infinity": b'{"level": Infinity, "posts": [{"id": "1", "text": "x", '
                b'"created_at": -Infinity}]}',
    "wrong-types": b'{"sensor": [], "level": {}, "stream": 5, "consent": "true", '
                   b'"posts": "none"}',
    "batch-of-junk": b'[1, "x", null, [], {"sensor": {}}, {"posts": [null]}]',
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "bad-utf8": b'{"text": "\xff\xfe\xfd"}',
    "null": b"null",
}

ROUTES = [
    ("POST", "/api/v1/registrations", False),
    ("PATCH", "/api/v1/cameras/0123456789abcdef", True),
    ("POST", "/api/v1/ingest/gateway", True),
    ("POST", "/api/v1/social/bridge", True),
]


def write_config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(TOKEN + "\n")
    doc = {
        "daemon": {"listen": "127.0.0.1:0", "state_dir": str(directory / "state"),
                   "auth": {"token_file": str(directory / "token")},
                   "limits": {"shutdown_timeout": "3s"}},
        "sources": [
            {"kind": "camera_registry", "name": "registry", "refresh_interval": "1s"},
            {"kind": "http_sensors", "name": "gateway",
             "sensors": {"bkb": {"type": "water_level",
                                 "thresholds": {"waspada": 3, "siaga": 4, "awas": 5}}}},
            {"kind": "social_webhook", "name": "bridge", "topics": ["banjir"]},
        ],
    }
    (directory / "sitroom.yaml").write_text(yaml.safe_dump(doc))
    return directory


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def daemon(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Daemon, str]]:
    d = Daemon(write_config(tmp_path_factory.mktemp("hostile") / "conf.d"))
    await d.start()
    host, port = d.bound_addresses[0]
    base = f"http://{host}:{port}"
    async with aiohttp.ClientSession() as session:  # 503 until the registry's database opens
        for _ in range(300):
            async with session.get(f"{base}/api/v1/cameras", headers=AUTH) as response:
                if response.status != 503:
                    break
            await asyncio.sleep(0.1)
    yield d, base
    await d.stop()


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(("method", "path", "auth"), ROUTES, ids=[r[1] for r in ROUTES])
async def test_hostile_bodies_get_a_4xx(daemon: tuple[Daemon, str], method: str, path: str,
                                        auth: bool) -> None:
    _, base = daemon
    failures: list[str] = []
    async with aiohttp.ClientSession() as session:
        for name, body in HOSTILE.items():
            async with session.request(
                method, base + path, data=body,
                headers={**(AUTH if auth else {}), "Content-Type": "application/json"},
            ) as response:
                text = await response.text()
                if not 400 <= response.status < 500:
                    failures.append(f"{name}: {response.status} {text[:200]}")
                    continue
                answer: Any = json.loads(text)
                if not (answer.get("errors") or answer.get("details") or answer.get("reasons")
                        or answer.get("error")):
                    failures.append(f"{name}: no error detail in {text[:200]}")
        async with session.get(base + "/metrics") as response:
            metrics = await response.text()
    assert not failures, failures
    assert sample_value(metrics, "sitroom_http_request_errors_total", reason="internal") == 0
