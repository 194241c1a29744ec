"""Per-client token buckets for the public endpoints and the login, and who the client is.

Clients are bucketed by network, not by address: an IPv6 client usually holds a whole /64
(and can pick any address in it per request), so IPv6 buckets are /64s; IPv4 buckets stay
single addresses (/32): behind NAT one address is often a whole household already.
In memory on purpose: a restart forgets the buckets, which is harmless (the limits exist
to stop floods, not to count quotas), and keeps the public path free of database writes.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from aiohttp import web


class TokenBucketLimiter:
    """`burst` requests at once, refilled at `per_minute`; LRU-bounded to `max_clients`."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0.0 when allowed (a token is spent); otherwise seconds until one is available."""
        client = bucket_key(client)
        now = self.clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            allowed = 0.0
        else:
            self._buckets[client] = (tokens, now)
            allowed = (1.0 - tokens) / self.rate
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return allowed


def bucket_key(client: str) -> str:
    """The bucket a client address draws from: its /64 for IPv6, the address for IPv4.

    IPv4-mapped IPv6 addresses count as the IPv4 address they carry. Anything that is not
    an address ("unknown") is its own bucket.
    """
    try:
        ip = ipaddress.ip_address(client.split("%", 1)[0])
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def client_address(request: web.Request, trusted: Iterable[Network]) -> str:
    """The peer address, or the nearest untrusted X-Forwarded-For hop behind our proxies.

    Only proxies the config trusts may speak for clients; anyone else could send a fresh
    X-Forwarded-For with every request and never run out of tokens.
    """
    peer = request.remote or "unknown"
    networks = tuple(trusted)
    if not networks or not _in(peer, networks):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, networks):
            return hop
    return hops[0] if hops else peer


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in networks)
