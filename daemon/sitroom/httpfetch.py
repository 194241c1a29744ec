"""Bounded HTTP GET for polling sources that read someone else's API.

Several plugins poll JSON APIs (projects, generic JSON, traffic): each needs the same care,
so it lives here once. An external API can answer slowly, hugely or with an error page; the
poll must end within its timeout, never buffer more than `max_bytes`, and fail with a small
set of reasons the core counts (`connect`, `timeout`, `status`, `too_large`). Header values
are secrets (API keys): they are `SecretStr` in config and never appear in errors.

`read_response_bounded` and `read_request_bounded` are the one capped body reader for
both directions (a poll's answer, a webhook's request). They loop until the body ends:
aiohttp's `StreamReader.read(n)` returns whatever happens to be buffered, not `n` bytes,
so a single `read(limit + 1)` silently truncates any body that arrives in several pieces.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web
from pydantic import Field, SecretStr

from sitroom.config import ConfigModel
from sitroom.declarations import SourceError
from sitroom.secrets import redact_url

_CHUNK = 65536


class BodyTooLarge(Exception):
    """A body (declared or actually sent) exceeds the caller's cap; `limit` is that cap."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        self.limit = limit
        self.declared = declared
        if declared is not None:
            super().__init__(f"declared {declared} bytes, more than the limit of {limit}")
        else:
            super().__init__(f"more than the limit of {limit} bytes")


async def _read_capped(
    content: aiohttp.StreamReader, declared: int | None, max_bytes: int
) -> bytes:
    if declared is not None and declared > max_bytes:
        raise BodyTooLarge(max_bytes, declared)
    body = bytearray()
    async for chunk in content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise BodyTooLarge(max_bytes)
    return bytes(body)


async def read_response_bounded(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The whole response body, or `BodyTooLarge` once it passes `max_bytes`.

    A Content-Length above the cap is refused before reading anything; without one (chunked,
    or a lying server) reading stops one chunk past the cap, so memory stays bounded.
    Transport errors (`aiohttp.ClientError`, `TimeoutError`) propagate to the caller.
    """
    return await _read_capped(response.content, response.content_length, max_bytes)


async def read_request_bounded(request: web.Request, max_bytes: int) -> bytes:
    """The whole request body, or `BodyTooLarge` (answer it with 413) past `max_bytes`."""
    return await _read_capped(request.content, request.content_length, max_bytes)


class HttpHeader(ConfigModel):
    """One request header whose value may be secret (`value_file: /path` or `${ENV}`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
    value: SecretStr


async def fetch_bytes(
    session: aiohttp.ClientSession,
    url: str,
    *,
    time_limit: float,
    max_bytes: int,
    headers: list[HttpHeader] | tuple[HttpHeader, ...] = (),
) -> bytes:
    """GET `url` and return its body, or raise `SourceError` with a countable reason."""
    shown = redact_url(url)
    request_headers = {h.name: h.value.get_secret_value() for h in headers}
    request_headers.setdefault("Accept", "application/json, text/csv;q=0.9, */*;q=0.1")
    try:
        async with session.get(
            url,
            headers=request_headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=time_limit),
        ) as response:
            if not 200 <= response.status < 300:
                raise SourceError("status", f"{shown}: HTTP {response.status}")
            try:
                return await read_response_bounded(response, max_bytes)
            except BodyTooLarge as exc:
                raise SourceError("too_large", f"{shown}: response {exc}") from None
    except TimeoutError as exc:
        raise SourceError("timeout", f"{shown}: no complete answer within {time_limit:g}s") from exc
    except aiohttp.ClientError as exc:
        raise SourceError("connect", f"{shown}: {type(exc).__name__}") from exc
