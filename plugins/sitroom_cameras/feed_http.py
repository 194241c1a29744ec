"""HTTP cameras: MJPEG streams (multipart/x-mixed-replace) and JPEG snapshot polling.

Both run on the event loop with the daemon's shared aiohttp session: reading a multipart
stream is cheap byte shuffling, and the JPEG itself is decoded later, reduced, in the worker
pool. Requests go to the pinned IP with the original Host header and SNI, never follow
redirects unless the config allows it, and cap what they buffer so a hostile "camera" cannot
make the daemon hold gigabytes or stall the loop: the multipart splitter scans each byte
about once (never the whole buffer again per chunk) and gives up past `max_frame_bytes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import aiohttp

from sitroom.api import BodyTooLarge, SourceError, read_response_bounded
from sitroom_cameras.decode import Decoded, decode_jpeg, jpeg_size
from sitroom_cameras.feed import Feed, Pending
from sitroom_cameras.targets import HttpTarget

MAX_FRAME_BYTES = 4 * 1024 * 1024
"""Largest JPEG (snapshot or MJPEG part) accepted; a 4K camera's JPEG is well under 2 MiB."""
_BOUNDARY = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)


class FrameTooLarge(Exception):
    """More than the cap buffered without a complete part (or any boundary at all)."""


class MultipartSplitter:
    """Cut a multipart byte stream into parts, in time linear in the bytes received.

    Each `feed()` resumes the marker search where the previous one stopped (less the
    marker's length, for a marker split across chunks), so a stream that never sends a
    boundary costs one pass over its bytes, not one pass over the whole buffer per chunk.
    """

    def __init__(self, marker: bytes, max_bytes: int) -> None:
        self.marker = marker
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._scan = 0  # the next marker search starts here
        self._open = False  # buffer[0:len(marker)] is the current part's opening marker

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add bytes; return the parts they completed (raw, between two markers)."""
        buffer, marker = self._buffer, self.marker
        buffer += chunk
        parts: list[bytes] = []
        while True:
            found = buffer.find(marker, self._scan)
            if found < 0:
                self._scan = max(self._scan, len(buffer) - len(marker) + 1)
                break
            if self._open:
                parts.append(bytes(buffer[len(marker):found]))
            del buffer[:found]  # drops the finished part, or garbage before the first marker
            self._open = True
            self._scan = len(marker)
        if len(buffer) > self.max_bytes:
            raise FrameTooLarge(
                f"{len(buffer)} bytes without a complete part"
                if self._open else f"no multipart boundary in {len(buffer)} bytes"
            )
        return parts


class _HttpFeed(Feed):
    def __init__(self, session: aiohttp.ClientSession, target: HttpTarget, *, name: str,
                 timeout: float, min_width: int, max_frame_bytes: int = MAX_FRAME_BYTES
                 ) -> None:
        super().__init__()
        self._session = session
        self._target = target
        self._name = name
        self._timeout = timeout
        self._min_width = min_width
        self._max_frame_bytes = max_frame_bytes

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
        splitter = MultipartSplitter(marker, self._max_frame_bytes)
        try:
            async for chunk in self._response.content.iter_any():
                for part in splitter.feed(chunk):
                    self._part(part)
            raise SourceError("disconnected", f"camera {self._name}: stream ended")
        except FrameTooLarge as exc:
            self._error = SourceError("protocol", f"camera {self._name}: {exc}")
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
                data = await read_response_bounded(response, self._max_frame_bytes)
        except BodyTooLarge as exc:
            raise SourceError("protocol", f"camera {self._name}: snapshot {exc}") from None
        except aiohttp.ClientSSLError as exc:
            raise SourceError("tls", f"camera {self._name}: {type(exc).__name__}") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SourceError("connect", f"camera {self._name}: {type(exc).__name__}") from None
        size = jpeg_size(data)
        if size is None:
            raise SourceError("decode", f"camera {self._name}: snapshot is not a JPEG")
        self.size = size
        min_width = self._min_width

        def decode_then_count() -> Decoded:
            # a frame counts (and the camera is up) only once it decodes: a camera that
            # sends broken JPEGs shows decode errors and goes down, instead of looking up
            # while never being analysed
            decoded = decode_jpeg(data, min_width)
            self.stats.frame(True)
            return decoded

        return decode_then_count
