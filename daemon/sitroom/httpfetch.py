"""Bounded HTTP GET for polling sources that read someone else's API.

Several plugins poll JSON APIs (projects, generic JSON, traffic): each needs the same care,
so it lives here once. An external API can answer slowly, hugely or with an error page; the
poll must end within its timeout, never buffer more than `max_bytes`, and fail with a small
set of reasons the core counts (`connect`, `timeout`, `status`, `too_large`). Header values
are secrets (API keys): they are `SecretStr` in config and never appear in errors.
"""

from __future__ import annotations

import aiohttp
from pydantic import Field, SecretStr

from sitroom.config import ConfigModel
from sitroom.kinds import SourceError
from sitroom.secrets import redact_url

_CHUNK = 65536


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
            declared = response.content_length
            if declared is not None and declared > max_bytes:
                raise SourceError(
                    "too_large", f"{shown}: response of {declared} bytes exceeds {max_bytes}"
                )
            body = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise SourceError("too_large", f"{shown}: response exceeds {max_bytes} bytes")
            return bytes(body)
    except TimeoutError as exc:
        raise SourceError("timeout", f"{shown}: no complete answer within {time_limit:g}s") from exc
    except aiohttp.ClientError as exc:
        raise SourceError("connect", f"{shown}: {type(exc).__name__}") from exc
