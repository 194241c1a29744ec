"""HTTP cameras: MJPEG streams (multipart/x-mixed-replace) and JPEG snapshot polling.

Both run on the event loop with the daemon's shared aiohttp session: reading a multipart
stream is cheap byte shuffling, and the JPEG itself is decoded later, reduced, in the worker
pool. Requests go to the pinned IP with the original Host header and SNI, never follow
redirects unless the config allows it, and cap what they buffer so a hostile "camera" cannot
make the daemon hold gigabytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

import aiohttp

from sitroom import SourceError
from sitroom_cameras.decode import decode_jpeg, jpeg_size
from sitroom_cameras.feed import Feed, Pending
from sitroom_cameras.targets import HttpTarget

MAX_JPEG_BYTES = 16 * 1024 * 1024
_BOUNDARY = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)


class _HttpFeed(Feed):
    def __init__(self, session: aiohttp.ClientSession, target: HttpTarget, *, name: str,
                 timeout: float, min_width: int) -> None:
        super().__init__()
        self._session = session
        self._target = target
        self._name = name
        self._timeout = timeout
        self._min_width = min_width

    def _request(self, timeout: aiohttp.ClientTimeout) -> aiohttp.client._RequestContextManager:
        headers = dict(self._target.headers)
        if self._target.authorization:
            headers["Authorization"] = self._target.authorization
        return self._session.get(
            self._target.url,
            headers=headers,
            allow_redirects=self._target.follow_redirects,
            server_hostname=self._target.server_hostname,
            ssl=self._target.ssl,
            timeout=timeout,
        )

    def _check(self, response: aiohttp.ClientResponse) -> None:
        if response.status in (301, 302, 303, 307, 308):
            raise SourceError("redirect", f"camera {self._name}: redirect refused "
                                          f"(status {response.status})")
        if response.status in (401, 403):
            raise SourceError("auth", f"camera {self._name}: access denied ({response.status})")
        if response.status != 200:
            raise SourceError("status", f"camera {self._name}: HTTP status {response.status}")

    def _pending(self, data: bytes) -> Pending:
        min_width = self._min_width
        return lambda: decode_jpeg(data, min_width)


class MjpegFeed(_HttpFeed):
    """A multipart stream read continuously; only the newest JPEG is kept."""

    transport = "mjpeg"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._latest: bytes | None = None
        self._task: asyncio.Task[None] | None = None
        self._error: SourceError | None = None
        self._response: aiohttp.ClientResponse | None = None
        self._cm: aiohttp.client._RequestContextManager | None = None

    async def open(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout,
                                        sock_read=self._timeout)
        try:
            self._cm = self._request(timeout)
            self._response = await asyncio.wait_for(self._cm.__aenter__(), self._timeout)
        except aiohttp.ClientSSLError as exc:
            raise SourceError("tls", f"camera {self._name}: {type(exc).__name__}") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SourceError("connect", f"camera {self._name}: {type(exc).__name__}") from None
        self._check(self._response)
        ctype = self._response.headers.get("Content-Type", "")
        match = _BOUNDARY.search(ctype)
        if not ctype.lower().startswith("multipart/") or not match:
            raise SourceError("protocol", f"camera {self._name}: not an MJPEG stream")
        self._task = asyncio.create_task(self._read(match.group(1).encode("latin-1")))

    async def _read(self, boundary: bytes) -> None:
        assert self._response is not None
        # some cameras announce boundary=--x and write "--x" (not "----x"): accept both
        marker = boundary if boundary.startswith(b"--") else b"--" + boundary
        buffer = bytearray()
        try:
            async for chunk in self._response.content.iter_any():
                buffer += chunk
                while True:
                    start = buffer.find(marker)
                    if start < 0:
                        break
                    end = buffer.find(marker, start + len(marker))
                    if end < 0:
                        if start:
                            del buffer[:start]
                        break
                    self._part(bytes(buffer[start + len(marker):end]))
                    del buffer[:end]
                if len(buffer) > MAX_JPEG_BYTES:
                    raise SourceError("protocol", f"camera {self._name}: frame too large")
            raise SourceError("disconnected", f"camera {self._name}: stream ended")
        except SourceError as exc:
            self._error = exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self._error = SourceError("read", f"camera {self._name}: {type(exc).__name__}")

    def _part(self, part: bytes) -> None:
        head, sep, body = part.partition(b"\r\n\r\n")
        if not sep:
            return
        body = body.rstrip(b"\r\n")
        size = jpeg_size(body)
        if size is None:
            return
        self.size = size
        self._latest = body
        self.stats.frame(True)

    async def grab(self) -> Pending | None:
        if self._error is not None:
            raise self._error
        data, self._latest = self._latest, None
        return self._pending(data) if data is not None else None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._response is not None:
            self._response.close()
            self._response = None


class SnapshotFeed(_HttpFeed):
    """One JPEG fetched per analysis: the cheapest camera there is."""

    transport = "snapshot"

    async def open(self) -> None:
        """Snapshots have no connection to hold; the first grab is the first contact."""

    async def grab(self) -> Pending | None:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with self._request(timeout) as response:
                self._check(response)
                data = await response.content.read(MAX_JPEG_BYTES + 1)
        except aiohttp.ClientSSLError as exc:
            raise SourceError("tls", f"camera {self._name}: {type(exc).__name__}") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SourceError("connect", f"camera {self._name}: {type(exc).__name__}") from None
        if len(data) > MAX_JPEG_BYTES:
            raise SourceError("protocol", f"camera {self._name}: snapshot too large")
        size = jpeg_size(data)
        if size is None:
            raise SourceError("decode", f"camera {self._name}: snapshot is not a JPEG")
        self.size = size
        self.stats.frame(True)
        return self._pending(data)
