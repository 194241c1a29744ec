"""SSRF guard: decide whether the daemon may connect to an address someone else gave it.

Citizens register cameras by IP or host name, so every such address is attacker-controlled
input to a process that sits inside the city network. The guard resolves a host ONCE, judges
every address it resolves to, and hands back the address to connect to; callers then connect
to that pinned address only (`PinnedResolver`), so a DNS answer that changes between the
check and the connect (rebinding) cannot steer the connection elsewhere. Redirects are
judged like a new address (`check_redirect`) and never followed blindly.

What is refused, and why:
- always: unspecified, multicast, broadcast and cloud metadata endpoints (no camera lives
  there, and an allow-list typo must never open the metadata service);
- unless an allow-listed network contains the address: loopback, private (RFC 1918, ULA),
  shared (CGNAT), link-local and every other special-purpose (reserved, documentation,
  benchmarking) range. Cities reach cameras over VPNs, hence the allow-list.
IPv6 encodings of IPv4 addresses (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by
the IPv4 address they carry. Numeric host spellings are parsed the way `inet_aton` and
browsers do (`0x7f000001`, `2130706433`, `017700000001`, `127.1`), so the guard judges the
address the socket layer would really reach. We keep our own tables instead of trusting
`ipaddress.is_global`, whose answers for special ranges changed between Python releases.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Awaitable[list[str]]]

DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}
ALWAYS_REFUSED = frozenset({"unspecified", "multicast", "broadcast", "metadata"})

_METADATA = tuple(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.123",  # AWS time sync
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer (a public address!)
        "192.0.0.192",  # Oracle Cloud (legacy)
        "fd00:ec2::254",  # AWS IMDS over IPv6
    )
)


def _nets(*pairs: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(net), reason) for net, reason in pairs)


# Order matters: the first match names the reason.
_V4_SPECIAL = _nets(
    ("0.0.0.0/8", "unspecified"),
    ("255.255.255.255/32", "broadcast"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "private"),  # shared address space (carrier-grade NAT)
    ("224.0.0.0/4", "multicast"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("240.0.0.0/4", "reserved"),
)
_V6_SPECIAL = _nets(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fe80::/10", "link_local"),
    ("fec0::/10", "private"),
    ("fc00::/7", "private"),
    ("ff00::/8", "multicast"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),  # IETF protocol assignments, Teredo included
    ("2001:db8::/32", "reserved"),
    ("3fff::/20", "reserved"),
    ("5f00::/16", "reserved"),
)
_V6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_COMPAT = ipaddress.ip_network("::/96")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SIXTOFOUR = ipaddress.ip_network("2002::/16")

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


class AddressRefused(Exception):
    """The guard said no. `reason` is a low-cardinality word fit for a metric label."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class Verdict:
    """The judgement of one IP address (no I/O: tests call `judge` directly)."""

    address: IPAddress
    effective: IPAddress  # the IPv4 address an IPv6 encoding carries, else `address`
    reason: str | None  # None = public; otherwise why it is special
    allowed: bool


@dataclass(frozen=True)
class CheckedTarget:
    """A destination the guard accepted: connect to `address`, never re-resolve `host`."""

    scheme: str
    host: str  # canonical host: lower-case name, or the dotted/compressed IP
    port: int
    address: str  # the pinned IP, as a string
    path: str = "/"
    query: str = ""
    host_is_ip: bool = False

    @property
    def url(self) -> str:
        """Canonical URL without credentials (host kept, so TLS and Host headers work)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS.get(self.scheme)
        netloc = host if self.port == default else f"{host}:{self.port}"
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{netloc}{self.path or '/'}{query}"


# -- parsing -------------------------------------------------------------------------------


def _parse_number(text: str) -> int:
    if text[:2] in ("0x", "0X"):
        if len(text) == 2:
            raise ValueError("empty hexadecimal number")
        return int(text[2:], 16)
    if len(text) > 1 and text.startswith("0"):
        if not all(c in "01234567" for c in text):
            raise ValueError("invalid octal number")
        return int(text, 8)
    return int(text, 10)


def parse_ipv4_like(host: str) -> ipaddress.IPv4Address | None:
    """Parse a host the way `inet_aton` (and the WHATWG URL spec) does, or return None.

    `a`, `a.b`, `a.b.c` and `a.b.c.d` forms, each part decimal, octal (leading 0) or hex
    (0x). A host whose last label is numeric but which does not parse is an error, not a
    name to look up: `1.2.3.999` must never reach DNS, where someone could make it resolve.
    """
    text = host[:-1] if host.endswith(".") else host
    parts = text.split(".")
    if not parts or not _NUMBER.match(parts[-1] or "x"):
        return None
    if len(parts) > 4 or not all(_NUMBER.match(p) for p in parts):
        raise ValueError("malformed numeric IPv4 address")
    values = [_parse_number(p) for p in parts]
    head, last = values[:-1], values[-1]
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise ValueError("IPv4 address part out of range")
    number = last
    for index, value in enumerate(head):
        number |= value << (24 - 8 * index)
    return ipaddress.IPv4Address(number)


def parse_ip_literal(host: str) -> IPAddress | None:
    """An IP address spelled any way a socket would accept it, or None for a host name."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
        if "%" in text:
            raise ValueError("IPv6 zone identifiers are not accepted")
        return ipaddress.IPv6Address(text)
    if ":" in text:
        if "%" in text:
            raise ValueError("IPv6 zone identifiers are not accepted")
        return ipaddress.IPv6Address(text)
    return parse_ipv4_like(text)


def canonical_hostname(host: str) -> str:
    """Lower-case, IDNA-encoded host name; ValueError for anything else."""
    name = host.strip().rstrip(".").lower()
    if not name or len(name) > 253:
        raise ValueError("host name is empty or too long")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("host name is not a valid internationalised name") from None
    if not all(_LABEL.match(label) for label in name.split(".")):
        raise ValueError("host name may contain only letters, digits, '-' and '.'")
    return name


# -- judging -------------------------------------------------------------------------------


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 encoding would deliver packets to, if any."""
    if address in _MAPPED or (address in _COMPAT and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIXTOFOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


def special_reason(address: IPAddress) -> str | None:
    """Why an address is not an ordinary public unicast address (None if it is one)."""
    if address in _METADATA:
        return "metadata"
    if isinstance(address, ipaddress.IPv4Address):
        for net, reason in _V4_SPECIAL:
            if address in net:
                return reason
        return None
    for net, reason in _V6_SPECIAL:
        if address in net:
            return reason
    if address not in _V6_GLOBAL_UNICAST:
        return "reserved"
    return None


class NetGuard:
    """The policy: allow-listed networks and ports, plus a resolver (injectable for tests)."""

    def __init__(
        self,
        allow_networks: Iterable[str | IPNetwork] = (),
        allowed_ports: Iterable[int] | None = None,
        resolver: Resolver | None = None,
        resolve_timeout: float = 5.0,
    ) -> None:
        self.allow_networks = tuple(ipaddress.ip_network(n, strict=False) for n in allow_networks)
        self.allowed_ports = frozenset(allowed_ports) if allowed_ports is not None else None
        self.resolver = resolver or system_resolver
        self.resolve_timeout = resolve_timeout

    def judge(self, address: IPAddress) -> Verdict:
        """Judge one address: no DNS, no connection."""
        effective: IPAddress = address
        reason = special_reason(address)
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                effective = embedded
                inner = special_reason(embedded)
                # the carrier prefix itself (::/8 etc.) is "reserved"; what counts is the
                # IPv4 address the packets reach, unless that is special too
                reason = inner
                if inner is not None and address not in _MAPPED:
                    # NAT64/6to4/compat reach a special IPv4 address through a translator:
                    # an allow-list names networks, not tunnels into them
                    return Verdict(address, effective, inner, False)
        if reason is None:
            return Verdict(address, effective, None, True)
        if reason in ALWAYS_REFUSED:
            return Verdict(address, effective, reason, False)
        allowed = any(
            effective.version == net.version and effective in net for net in self.allow_networks
        )
        return Verdict(address, effective, reason, allowed)

    def check_port(self, port: int) -> None:
        if not 0 < port < 65536:
            raise AddressRefused("port", "port out of range")
        if self.allowed_ports is not None and port not in self.allowed_ports:
            raise AddressRefused("port", f"port {port} is not allowed")

    async def check(self, host: str, port: int) -> tuple[str, IPAddress, bool]:
        """Resolve once and judge every answer; return (canonical host, pinned IP, is_ip).

        One refused answer refuses the host: a name that resolves to both a public and a
        loopback address is an attack, not a camera.
        """
        self.check_port(port)
        try:
            literal = parse_ip_literal(host)
        except ValueError as exc:
            raise AddressRefused("invalid", str(exc)) from None
        if literal is not None:
            verdict = self.judge(literal)
            if not verdict.allowed:
                raise AddressRefused(verdict.reason or "refused", f"{verdict.reason} address")
            # connect to what the packets would reach: ::ffff:a.b.c.d means a.b.c.d
            pinned = verdict.effective if verdict.address in _MAPPED else verdict.address
            return str(pinned), pinned, True
        try:
            name = canonical_hostname(host)
        except ValueError as exc:
            raise AddressRefused("invalid", str(exc)) from None
        try:
            async with asyncio.timeout(self.resolve_timeout):
                answers = await self.resolver(name)
        except (OSError, TimeoutError, UnicodeError):
            raise AddressRefused("unresolvable", "host name does not resolve") from None
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer.split("%", 1)[0]))
            except ValueError:
                raise AddressRefused("invalid", "resolver returned a non-address") from None
        if not addresses:
            raise AddressRefused("unresolvable", "host name has no addresses")
        for address in addresses:
            verdict = self.judge(address)
            if not verdict.allowed:
                raise AddressRefused(verdict.reason or "refused", f"resolves to {verdict.reason}")
        first = addresses[0]
        verdict = self.judge(first)
        pinned = verdict.effective if first in _MAPPED else first
        return name, pinned, False

    async def check_url(
        self, url: str, schemes: Iterable[str] = ("http", "https", "rtsp")
    ) -> CheckedTarget:
        """Parse a URL strictly (no credentials inside), then `check` its host and port."""
        if any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
            raise AddressRefused("invalid", "URL contains whitespace, control characters or '\\'")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise AddressRefused("invalid", "malformed URL") from None
        scheme = parts.scheme.lower()
        if scheme not in set(schemes):
            raise AddressRefused("scheme", f"scheme must be one of {', '.join(schemes)}")
        if "@" in parts.netloc:
            raise AddressRefused("invalid", "credentials must not be part of the URL here")
        host = parts.hostname
        if not host:
            raise AddressRefused("invalid", "URL has no host")
        if port is None:
            port = DEFAULT_PORTS.get(scheme, 0)
        if parts.netloc.startswith("[") and "]" in parts.netloc:
            host = f"[{host}]"
        canonical, pinned, is_ip = await self.check(host, port)
        return CheckedTarget(
            scheme=scheme,
            host=canonical,
            port=port,
            address=str(pinned),
            path=parts.path or "/",
            query=parts.query,
            host_is_ip=is_ip,
        )

    async def check_redirect(
        self, current: str, location: str, schemes: Iterable[str] = ("http", "https")
    ) -> CheckedTarget:
        """Judge a redirect's target like any new address (relative ones included)."""
        return await self.check_url(urljoin(current, location), schemes)


async def system_resolver(host: str) -> list[str]:
    """The operating system's resolver (getaddrinfo), every TCP address it returns."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class PinnedResolver(AbstractResolver):
    """An aiohttp resolver that answers only with addresses the guard already checked.

    The URL keeps its host name (TLS SNI and certificate checks, the Host header), but the
    socket goes to the pinned IP; any other name (a redirect target nobody checked) fails.
    """

    def __init__(self, pins: dict[str, str]) -> None:
        self.pins = {k.lower(): v for k, v in pins.items()}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.pins.get(host.lower().rstrip("."))
        if address is None:
            raise OSError(f"host {host!r} was not checked by the SSRF guard")
        ip = ipaddress.ip_address(address)
        return [
            {
                "hostname": host,
                "host": str(ip),
                "port": port,
                "family": socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


def pinned_connector(target: CheckedTarget, **kwargs: Any) -> Any:
    """An aiohttp TCPConnector that can reach `target` and nothing else."""
    import aiohttp

    return aiohttp.TCPConnector(
        resolver=PinnedResolver({target.host: target.address}),
        use_dns_cache=False,
        **kwargs,
    )
