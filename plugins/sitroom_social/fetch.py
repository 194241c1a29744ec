"""Error mapping shared by the RSS and Mastodon kinds.

Bodies are read with the core's `read_response_bounded` (sitroom.httpfetch): a feed or API
answer is abandoned past `max_bytes`, whatever Content-Length claims, so a huge (or endless)
document costs at most `max_bytes` of memory.
"""

from __future__ import annotations

from sitroom.api import SourceError


def connect_error(target: str, exc: BaseException) -> SourceError:
    return SourceError("connect", f"{target}: {type(exc).__name__}")
