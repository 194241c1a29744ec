"""Bounded HTTP reads shared by the RSS and Mastodon kinds.

A feed or API answer is read in chunks and abandoned past `max_bytes`, whatever
Content-Length claims: a huge (or endless) document must cost at most `max_bytes` of memory.
"""

from __future__ import annotations

import aiohttp

from sitroom import SourceError


class TooLarge(Exception):
    pass


async def read_bounded(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise TooLarge(f"declared {declared} bytes > {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"more than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def connect_error(target: str, exc: BaseException) -> SourceError:
    return SourceError("connect", f"{target}: {type(exc).__name__}")
