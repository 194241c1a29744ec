"""Registration bodies sent chunked and slowly are read whole; past 16 KiB they get 413.

A single `request.content.read(n)` returns only what is buffered, so a registration that
arrives in several pieces used to be cut short and answered "not valid JSON".
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from sitroom_registry.api import MAX_BODY
from tests.registry.conftest import Api, CameraServer, form


async def pieces(body: bytes, size: int = 512) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]
        await asyncio.sleep(0.005)  # each piece reaches the server in a later read


def padded(data: dict[str, object], size: int) -> bytes:
    """Valid JSON of about `size` bytes: insignificant whitespace first, so the object
    itself only arrives in the last pieces."""
    text = json.dumps(data).encode()
    return b" " * max(0, size - len(text)) + text


async def test_registration_sent_in_pieces_is_accepted(api: Api,
                                                       camera_server: CameraServer) -> None:
    body = padded(form(camera_server.port), 8 * 1024)
    headers = {"Content-Type": "application/json"}
    async with api.session.post(f"{api.base}/api/v1/registrations", data=pieces(body),
                                headers=headers) as response:
        answer = await response.json()
        assert response.status == 201, answer
    assert answer["status"] and answer["status_url"].endswith(answer["id"])


async def test_registration_past_the_limit_sent_in_pieces_is_refused(
        api: Api, camera_server: CameraServer) -> None:
    body = padded(form(camera_server.port), MAX_BODY + 4096)
    headers = {"Content-Type": "application/json"}
    async with api.session.post(f"{api.base}/api/v1/registrations", data=pieces(body, 4096),
                                headers=headers) as response:
        assert response.status == 413
        assert str(MAX_BODY) in (await response.json())["error"]
