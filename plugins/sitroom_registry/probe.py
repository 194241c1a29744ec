"""Open a registered stream once: is there a camera, and what does it send?

Every probe re-checks the address with the SSRF guard (DNS may have changed since the form
was sent) and connects to the pinned IP only. Redirects are never followed: the registry
publishes the registered URL with redirects off, so a camera that passed its probe by
redirecting would fail live for ever; an HTTP 3xx is a probe failure (`redirect`) telling
the owner to register the final URL, and no request (credentials least of all) is ever sent
to a redirect target. RTSP goes through `sitroom.rtspguard`'s loopback relay, which cuts the
session on any RTSP redirect (FFmpeg would otherwise follow it by itself). Time and bytes
are bounded. Error details name a category and an exception type, never the URL: the URL
may carry a path the owner considers private, and PyAV's messages carry credentials.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import aiohttp

from sitroom.api import AddressRefused, CheckedTarget, NetGuard, RtspRelay, pinned_connector

RESULTS = (
    "ok",
    "refused",
    "redirect",
    "connect",
    "timeout",
    "http_status",
    "auth",
    "not_image",
    "decode",
    "too_large",
    "error",
)
RunBlocking = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class ProbeTarget:
    protocol: str
    host: str
    port: int
    path: str
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.protocol}://{host}:{self.port}{self.path}"


@dataclass(frozen=True)
class ProbeResult:
    result: str
    detail: str
    address: str | None = None
    width: int | None = None
    height: int | None = None
    codec: str | None = None
    frame: bytes | None = None  # a small JPEG of what the probe saw, for the approval queue

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class ProbeFailed(Exception):
    def __init__(self, result: str, detail: str) -> None:
        super().__init__(detail)
        self.result = result
        self.detail = detail


THUMB_WIDTH = 480


def thumbnail(image: Any) -> bytes | None:
    """A JPEG at most THUMB_WIDTH wide of a BGR picture: what the operator approves."""
    import cv2

    height, width = image.shape[:2]
    if width > THUMB_WIDTH:
        image = cv2.resize(image, (THUMB_WIDTH, max(1, height * THUMB_WIDTH // width)),
                           interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return data.tobytes() if ok else None


def decode_jpeg(data: bytes) -> tuple[int, int, bytes | None]:
    """(width, height, thumbnail) of a JPEG, decoded for real: a header alone proves little."""
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ProbeFailed("decode", "the response is not a decodable JPEG image")
    height, width = image.shape[:2]
    return int(width), int(height), thumbnail(image)


async def _read_jpeg(response: aiohttp.ClientResponse, max_bytes: int) -> tuple[bytes, str]:
    """The first JPEG of a snapshot or an MJPEG stream, reading at most `max_bytes`."""
    content_type = response.headers.get("Content-Type", "").lower()
    multipart = content_type.startswith("multipart/")
    buffer = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        buffer += chunk
        if len(buffer) > max_bytes:
            raise ProbeFailed("too_large", f"no complete image within {max_bytes} bytes")
        if multipart:
            start = buffer.find(b"\xff\xd8")
            end = buffer.find(b"\xff\xd9", start + 2) if start >= 0 else -1
            if end >= 0:
                return bytes(buffer[start : end + 2]), "mjpeg"
    if multipart:
        raise ProbeFailed("not_image", "the MJPEG stream ended before a complete frame")
    if not buffer.startswith(b"\xff\xd8"):
        raise ProbeFailed("not_image", f"expected a JPEG image, got {content_type or 'no type'}")
    return bytes(buffer), "jpeg"


def redirect_detail(base: str, location: str) -> str:
    """What the owner is told: where the camera redirects (scheme, host, port only).

    The Location is the camera's own text: only a host-shaped value is echoed, never a path
    or credentials.
    """
    try:
        parts = urlsplit(urljoin(base, location))
        host, port = parts.hostname or "", parts.port
    except ValueError:
        host, port = "", None
    if not host or len(host) > 253 or not re.fullmatch(r"[A-Za-z0-9.:-]+", host):
        return "camera redirects elsewhere; register the final URL"
    host = f"[{host}]" if ":" in host else host
    scheme = parts.scheme if parts.scheme in ("http", "https", "rtsp") else "?"
    where = f"{scheme}://{host}" + (f":{port}" if port else "")
    return f"camera redirects to {where}; register the final URL"


async def probe_http(
    target: ProbeTarget,
    guard: NetGuard,
    time_limit: float,
    max_bytes: int,
    run_blocking: RunBlocking,
) -> ProbeResult:
    headers: dict[str, str] = {}
    if target.username or target.password:
        basic = aiohttp.encode_basic_auth(target.username or "", target.password or "")
        headers["Authorization"] = basic
    try:
        checked = await guard.check_url(target.url, ("http", "https"))
    except AddressRefused as exc:
        return ProbeResult("refused", f"address refused ({exc.reason})")
    try:
        outcome = await _fetch(checked, headers, time_limit, max_bytes)
    except ProbeFailed as exc:
        return ProbeResult(exc.result, exc.detail, checked.address)
    if isinstance(outcome, str):  # a redirect: stop here, never send anything to it
        return ProbeResult("redirect", redirect_detail(checked.url, outcome), checked.address)
    data, codec = outcome
    try:
        width, height, frame = await run_blocking(decode_jpeg, data)
    except ProbeFailed as exc:
        return ProbeResult(exc.result, exc.detail, checked.address)
    return ProbeResult("ok", f"{codec} {width}x{height}", checked.address, width, height, codec,
                       frame)


async def _fetch(
    checked: CheckedTarget, headers: dict[str, str], time_limit: float, max_bytes: int
) -> tuple[bytes, str] | str:
    """One pinned GET: the image bytes and codec, or a redirect's Location."""
    client_timeout = aiohttp.ClientTimeout(total=time_limit, connect=min(time_limit, 5.0))
    try:
        async with (
            aiohttp.ClientSession(
                connector=pinned_connector(checked), timeout=client_timeout, trust_env=False
            ) as session,
            session.get(checked.url, allow_redirects=False, headers=headers) as response,
        ):
            if 300 <= response.status < 400:
                location = response.headers.get("Location")
                if not location:
                    raise ProbeFailed("http_status", f"HTTP {response.status} without Location")
                return location
            if response.status in (401, 403):
                raise ProbeFailed("auth", f"HTTP {response.status}: credentials refused")
            if response.status != 200:
                raise ProbeFailed("http_status", f"HTTP {response.status}")
            return await _read_jpeg(response, max_bytes)
    except TimeoutError:
        raise ProbeFailed("timeout", f"no image within {time_limit:g}s") from None
    except aiohttp.ClientConnectorError as exc:
        raise ProbeFailed("connect", f"cannot connect ({type(exc.os_error).__name__})") from None
    except aiohttp.ClientError as exc:
        raise ProbeFailed("connect", f"HTTP error ({type(exc).__name__})") from None


def _rtsp_open(url: str, timeout: float, max_bytes: int
               ) -> tuple[int, int, str, bytes | None]:
    """Blocking: open an RTSP stream with PyAV and decode one video frame."""
    import av

    options = {
        "rtsp_transport": "tcp",
        "probesize": str(max_bytes),
        "analyzeduration": str(int(timeout * 1_000_000)),
    }
    try:
        with av.open(url, options=options, timeout=(timeout, timeout)) as container:
            if not container.streams.video:
                raise ProbeFailed("not_image", "the stream has no video track")
            stream = container.streams.video[0]
            received = 0
            for packet in container.demux(stream):
                received += packet.size or 0
                if received > max_bytes:
                    raise ProbeFailed("too_large", f"no decodable frame within {max_bytes} bytes")
                for frame in packet.decode():
                    return (int(frame.width), int(frame.height), str(stream.codec_context.name),
                            thumbnail(frame.to_ndarray(format="bgr24")))
    except ProbeFailed:
        raise
    except av.error.HTTPUnauthorizedError:
        raise ProbeFailed("auth", "RTSP: credentials refused") from None
    except av.error.ExitError:
        raise ProbeFailed("timeout", f"no frame within {timeout:g}s") from None
    except (av.error.FFmpegError, OSError) as exc:
        # the message embeds the URL (with credentials): keep only the type
        raise ProbeFailed("connect", f"RTSP open failed ({type(exc).__name__})") from None
    raise ProbeFailed("decode", "the stream ended before a decodable frame")


async def probe_rtsp(
    target: ProbeTarget,
    guard: NetGuard,
    time_limit: float,
    max_bytes: int,
    run_blocking: RunBlocking,
) -> ProbeResult:
    try:
        checked = await guard.check_url(target.url, ("rtsp",))
    except AddressRefused as exc:
        return ProbeResult("refused", f"address refused ({exc.reason})")
    userinfo = ""
    if target.username or target.password:
        userinfo = (
            f"{quote(target.username or '', safe='')}:{quote(target.password or '', safe='')}@"
        )
    # FFmpeg reaches the pinned IP only through the relay, which refuses RTSP redirects
    async with RtspRelay(checked.address, checked.port, connect_timeout=time_limit) as relay:
        url = f"rtsp://{userinfo}127.0.0.1:{relay.port}{target.path}"
        try:
            async with asyncio.timeout(time_limit * 2 + 1):
                width, height, codec, frame = await run_blocking(
                    _rtsp_open, url, time_limit, max_bytes
                )
        except (ProbeFailed, TimeoutError) as exc:
            if relay.blocked == "redirect":
                detail = "camera sends an RTSP redirect; register the final URL"
                return ProbeResult("redirect", detail, checked.address)
            if isinstance(exc, ProbeFailed):
                return ProbeResult(exc.result, exc.detail, checked.address)
            return ProbeResult("timeout", f"no frame within {time_limit:g}s", checked.address)
    return ProbeResult("ok", f"{codec} {width}x{height}", checked.address, width, height, codec,
                       frame)


async def probe(
    target: ProbeTarget,
    guard: NetGuard,
    time_limit: float,
    max_bytes: int,
    run_blocking: RunBlocking,
) -> ProbeResult:
    """Probe any supported protocol; never raises for a camera's misbehaviour."""
    runner = probe_rtsp if target.protocol == "rtsp" else probe_http
    try:
        return await runner(target, guard, time_limit, max_bytes, run_blocking)
    except Exception as exc:  # a probe must never take the registry down
        return ProbeResult("error", f"unexpected {type(exc).__name__}")
