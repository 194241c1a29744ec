"""The capped body readers against a real loopback aiohttp server, in both directions.

The bodies are sent in several writes with pauses between them, so they reach the reader in
more than one socket read: that is the case a single `StreamReader.read(n)` gets wrong (it
returns what is buffered, not n bytes).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from sitroom.declarations import SourceError
from sitroom.httpfetch import (
    BodyTooLarge,
    fetch_bytes,
    read_request_bounded,
    read_response_bounded,
)

PIECE = 64 * 1024
PIECES = 6  # 384 KiB in six writes


def body_of(size: int) -> bytes:
    """Distinct bytes per position, so a lost or repeated piece changes the digest."""
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


BODY = body_of(PIECE * PIECES)

Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an app on 127.0.0.1 (port chosen by the kernel); returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def _chunked(request: web.Request, body: bytes, declare: int | None = None
                   ) -> web.StreamResponse:
    headers = {"Content-Length": str(declare)} if declare is not None else {}
    response = web.StreamResponse(headers=headers)
    if declare is None:
        response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(body), PIECE):
        await response.write(body[start:start + PIECE])
        await asyncio.sleep(0.01)  # the next piece arrives in a later socket read
    return response


def response_app() -> web.Application:
    async def chunked(request: web.Request) -> web.StreamResponse:
        return await _chunked(request, BODY)

    async def lying(request: web.Request) -> web.StreamResponse:
        # declares a small body, then keeps sending: the cap must still hold
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"x" * PIECE)
            await asyncio.sleep(0)
        return response

    async def declared(request: web.Request) -> web.StreamResponse:
        # announces more than the cap, then sends nothing: only the header can refuse it
        response = web.StreamResponse(headers={"Content-Length": str(PIECE * 2)})
        await response.prepare(request)
        await asyncio.Event().wait()
        return response

    app = web.Application()
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/endless", lying)
    app.router.add_get("/declared", declared)
    return app


async def test_response_body_in_many_reads_arrives_whole(serve: Serve) -> None:
    base = await serve(response_app())
    async with aiohttp.ClientSession() as session, session.get(f"{base}/chunked") as response:
        assert response.content_length is None  # chunked: no early size check possible
        data = await read_response_bounded(response, len(BODY))  # exactly at the cap: fine
    assert len(data) == len(BODY)
    assert hashlib.sha256(data).digest() == hashlib.sha256(BODY).digest()


async def test_response_past_the_cap_is_refused_with_the_limit(serve: Serve) -> None:
    base = await serve(response_app())
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/endless") as response:
            with pytest.raises(BodyTooLarge) as info:
                await read_response_bounded(response, 200_000)
        assert info.value.limit == 200_000 and info.value.declared is None
        assert "200000" in str(info.value)
        async with session.get(f"{base}/chunked") as response:
            with pytest.raises(BodyTooLarge):
                await read_response_bounded(response, len(BODY) - 1)


async def test_declared_length_over_the_cap_is_refused_before_reading(serve: Serve) -> None:
    base = await serve(response_app())
    async with aiohttp.ClientSession() as session, session.get(f"{base}/declared") as response:
        with pytest.raises(BodyTooLarge) as info:
            # a reader that waited for the body would hang here (10 s guard, not a timing)
            await asyncio.wait_for(read_response_bounded(response, PIECE), 10)
        assert info.value.declared == PIECE * 2 and info.value.limit == PIECE


async def test_fetch_bytes_keeps_its_reasons(serve: Serve) -> None:
    base = await serve(response_app())
    async with aiohttp.ClientSession() as session:
        data = await fetch_bytes(session, f"{base}/chunked", time_limit=10, max_bytes=len(BODY))
        assert data == BODY
        with pytest.raises(SourceError) as info:
            await fetch_bytes(session, f"{base}/endless", time_limit=10, max_bytes=100_000)
        assert info.value.reason == "too_large"
        with pytest.raises(SourceError) as info:
            await fetch_bytes(session, f"{base}/declared", time_limit=10, max_bytes=1000)
        assert info.value.reason == "too_large"


def request_app(limit: int) -> web.Application:
    async def upload(request: web.Request) -> web.Response:
        try:
            body = await read_request_bounded(request, limit)
        except BodyTooLarge as exc:
            return web.json_response({"error": str(exc), "limit": exc.limit}, status=413)
        return web.json_response({"size": len(body),
                                  "sha256": hashlib.sha256(body).hexdigest()})

    app = web.Application()
    app.router.add_post("/upload", upload)
    return app


async def _slow_body(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), PIECE):
        yield body[start:start + PIECE]
        await asyncio.sleep(0.01)


async def test_request_body_sent_chunked_and_slowly_arrives_whole(serve: Serve) -> None:
    base = await serve(request_app(len(BODY)))
    async with (aiohttp.ClientSession() as session,
                session.post(f"{base}/upload", data=_slow_body(BODY)) as response):
        assert response.status == 200
        answer = await response.json()
    assert answer == {"size": len(BODY), "sha256": hashlib.sha256(BODY).hexdigest()}


async def test_request_past_the_cap_is_refused(serve: Serve) -> None:
    base = await serve(request_app(100_000))
    async with aiohttp.ClientSession() as session:
        # chunked (no Content-Length): refused while reading
        async with session.post(f"{base}/upload", data=_slow_body(BODY)) as response:
            assert response.status == 413
            assert (await response.json())["limit"] == 100_000
        # declared: refused from the header alone
        async with session.post(f"{base}/upload", data=BODY) as response:
            assert response.status == 413
            assert "declared" in (await response.json())["error"]
        # at the cap: accepted
        async with session.post(f"{base}/upload", data=BODY[:100_000]) as response:
            assert response.status == 200 and (await response.json())["size"] == 100_000
