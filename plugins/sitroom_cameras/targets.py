"""Where to connect: credentials merged into the address, and the pinned IP honoured.

A camera registered by a citizen is checked once (by the registry) and then reached at that
checked IP only: `pin_address` replaces the host for RTSP, and for HTTP the connection goes to
the IP while the Host header and TLS SNI keep the original name. The address with credentials
built here is handed to the network library and nowhere else; everything shown to people
uses `display`, which is redacted.
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from sitroom.api import SourceError, redact_url
from sitroom_cameras.config import CameraConfig


@dataclass(frozen=True)
class HttpTarget:
    url: str  # host replaced by the pinned IP when there is one
    headers: dict[str, str] = field(default_factory=dict)
    server_hostname: str | None = None
    authorization: str | None = field(default=None, repr=False)  # "Basic ..." header value
    follow_redirects: bool = False
    ssl: ssl.SSLContext | bool = True  # aiohttp: True = default verification


def _host_for_netloc(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _replace_host(url: str, host: str, userinfo: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def display(config: CameraConfig) -> str:
    """The address as logs and the API may show it (no credentials, no secret query values)."""
    if config.url is not None:
        return redact_url(config.url)
    return str(config.path)


def _userinfo(config: CameraConfig) -> tuple[str | None, str | None]:
    parts = urlsplit(config.url or "")  # userinfo in a URL is percent-encoded
    url_user = unquote(parts.username) if parts.username is not None else None
    url_password = unquote(parts.password) if parts.password is not None else None
    user = config.username.get_secret_value() if config.username else url_user
    password = config.password.get_secret_value() if config.password else url_password
    return user, password


def rtsp_credentials(config: CameraConfig) -> tuple[str | None, str | None]:
    """User and password for an RTSP camera: the config's fields, else the URL's."""
    return _userinfo(config)


def rtsp_url(config: CameraConfig) -> str:
    """The RTSP address FFmpeg opens: credentials inline, host replaced by the pinned IP."""
    assert config.url is not None
    parts = urlsplit(config.url)
    user, password = _userinfo(config)
    userinfo = None
    if user:
        userinfo = quote(user, safe="")
        if password:
            userinfo += ":" + quote(password, safe="")
    host = _host_for_netloc(config.pin_address) if config.pin_address else (
        _host_for_netloc(parts.hostname or ""))
    return _replace_host(config.url, host, userinfo)


def tls_context(config: CameraConfig) -> ssl.SSLContext | bool:
    """Verification as configured: a camera's own CA (self-signed is common), or none."""
    if not config.tls_verify:
        return False
    if config.ca_file is not None:
        try:
            return ssl.create_default_context(cafile=str(config.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise SourceError("tls", f"camera {config.name}: cannot load ca_file "
                                     f"({type(exc).__name__})") from None
    return True


def http_target(config: CameraConfig) -> HttpTarget:
    """An HTTP request that reaches the pinned IP while naming the original host."""
    assert config.url is not None
    parts = urlsplit(config.url)
    tls = tls_context(config) if parts.scheme == "https" else True
    user, password = _userinfo(config)
    auth = None
    if user:
        auth = "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
    host = _host_for_netloc(parts.hostname or "")
    if config.pin_address is None:
        return HttpTarget(_replace_host(config.url, host), authorization=auth,
                          follow_redirects=config.follow_redirects, ssl=tls)
    original = host if parts.port is None else f"{host}:{parts.port}"
    return HttpTarget(
        _replace_host(config.url, _host_for_netloc(config.pin_address)),
        headers={"Host": original},
        server_hostname=parts.hostname if parts.scheme == "https" else None,
        authorization=auth,
        follow_redirects=False,
        ssl=tls,
    )
