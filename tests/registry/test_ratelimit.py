"""Token buckets (with a fake clock, so no timing in the test) and client identification."""

from __future__ import annotations

import ipaddress

from aiohttp.test_utils import make_mocked_request

from sitroom_registry.ratelimit import (
    TokenBucketLimiter,
    bucket_key,
    client_address,
    retry_after,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_burst_then_refill() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(per_minute=6, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a")
    assert wait == 10.0 and retry_after(wait) == "10"  # 6/min: one token every 10 s
    assert limiter.take("b") == 0.0  # buckets are per client
    clock.now += 10.0
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0


def test_bucket_memory_is_bounded() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(per_minute=1, burst=1, max_clients=2, clock=clock)
    for client in ("a", "b", "c"):
        limiter.take(client)
    assert len(limiter._buckets) == 2 and "a" not in limiter._buckets


def request(remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    req = make_mocked_request("POST", "/api/v1/registrations", headers=headers)
    return req.clone(remote=remote)


def test_forwarded_for_only_from_trusted_proxies() -> None:
    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_address(request("198.51.100.7", "1.1.1.1"), proxies) == "198.51.100.7"
    assert client_address(request("10.0.0.5", "203.0.113.9, 10.0.0.6"), proxies) == "203.0.113.9"
    assert client_address(request("10.0.0.5", "6.6.6.6, 203.0.113.9"), proxies) == "203.0.113.9"
    assert client_address(request("10.0.0.5"), proxies) == "10.0.0.5"
    assert client_address(request("10.0.0.5", "1.1.1.1"), []) == "10.0.0.5"


def test_ipv6_clients_share_a_bucket_per_64_and_ipv4_per_address() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(per_minute=1, burst=2, clock=clock)
    # a client rotating through its /64 gets no fresh tokens
    assert limiter.take("2001:db8:1:2::1") == 0.0
    assert limiter.take("2001:db8:1:2:ffff:1234:5678:9abc") == 0.0
    assert limiter.take("2001:db8:1:2::dead") > 0
    assert limiter.take("2001:db8:1:3::1") == 0.0  # the next /64 is someone else
    # IPv4: neighbours are separate clients; the mapped form is the same client
    assert limiter.take("192.0.2.10") == 0.0
    assert limiter.take("::ffff:192.0.2.10") == 0.0
    assert limiter.take("192.0.2.10") > 0
    assert limiter.take("192.0.2.11") == 0.0
    assert limiter.take("unknown") == 0.0  # not an address: its own bucket, no crash


def test_bucket_keys() -> None:
    assert bucket_key("2001:db8::1") == "2001:db8::/64"
    assert bucket_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert bucket_key("fe80::1%eth0") == "fe80::/64"
    assert bucket_key("198.51.100.7") == "198.51.100.7"
    assert bucket_key("not-an-ip") == "not-an-ip"
