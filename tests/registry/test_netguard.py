"""The SSRF guard's verdicts, judged without connecting anywhere (resolvers are injected).

One test at the end does connect, to a loopback server only, to prove that the pinned
connector reaches the checked address although the name now resolves elsewhere.
"""

from __future__ import annotations

import ipaddress

import aiohttp
import pytest
from aiohttp import web

from sitroom.netguard import (
    AddressRefused,
    NetGuard,
    PinnedResolver,
    parse_ip_literal,
    pinned_connector,
)


class FakeResolver:
    """Answers from a table; records every lookup. Raises OSError for unknown names."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = {k: list(v) for k, v in table.items()}
        self.calls: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        answers = self.table.get(host)
        if not answers:
            raise OSError("NXDOMAIN")
        return answers.pop(0) if len(answers) > 1 else answers[0]


RESOLVER = FakeResolver(
    {
        "loopback.example": [["127.0.0.1"]],
        "mixed.example": [["93.184.216.34", "127.0.0.1"]],
        "metadata.example": [["169.254.169.254"]],
        "mapped.example": [["::ffff:10.0.0.1"]],
        "camera.example": [["93.184.216.34"]],
    }
)

# (host, reason) — every one must be refused by the default policy (no allow-list)
REFUSED = [
    ("127.0.0.1", "loopback"),
    ("0x7f000001", "loopback"),
    ("0X7F000001", "loopback"),
    ("2130706433", "loopback"),
    ("017700000001", "loopback"),
    ("0177.0.0.1", "loopback"),
    ("127.1", "loopback"),
    ("127.0.1", "loopback"),
    ("0x7f.1", "loopback"),
    ("127.0.0.1.", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),
    ("[::ffff:7f00:1]", "loopback"),
    ("[::1]", "loopback"),
    ("::1", "loopback"),
    ("[0:0:0:0:0:0:0:1]", "loopback"),
    ("::127.0.0.1", "loopback"),  # IPv4-compatible
    ("169.254.169.254", "metadata"),
    ("0xa9fea9fe", "metadata"),
    ("2852039166", "metadata"),
    ("::ffff:169.254.169.254", "metadata"),
    ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64
    ("2002:a9fe:a9fe::1", "metadata"),  # 6to4
    ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"),
    ("169.254.1.1", "link_local"),
    ("fe80::1", "link_local"),
    ("10.0.0.1", "private"),
    ("012.0.0.1", "private"),  # octal 10.0.0.1
    ("172.16.5.4", "private"),
    ("192.168.1.10", "private"),
    ("100.64.0.1", "private"),
    ("fc00::1", "private"),
    ("0.0.0.0", "unspecified"),
    ("0", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("192.0.2.1", "reserved"),
    ("2001:db8::1", "reserved"),
    ("loopback.example", "loopback"),
    ("mixed.example", "loopback"),  # one bad answer spoils the name
    ("metadata.example", "metadata"),
    ("mapped.example", "private"),
    ("nxdomain.example", "unresolvable"),
    ("1.2.3.999", "invalid"),
    ("1.2.3.4.5", "invalid"),
    ("0x", "invalid"),
    ("08.0.0.1", "invalid"),  # 08 is not octal: inet_aton refuses, so do we
    ("fe80::1%eth0", "invalid"),
    ("bad_host.example", "invalid"),
    ("-bad.example", "invalid"),
]


@pytest.mark.parametrize(("host", "reason"), REFUSED)
async def test_refused(host: str, reason: str) -> None:
    guard = NetGuard(resolver=RESOLVER)
    with pytest.raises(AddressRefused) as info:
        await guard.check(host, 80)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("93.184.216.34", "93.184.216.34"),
        ("1572395042", "93.184.216.34"),  # decimal spelling of a public address
        ("camera.example", "93.184.216.34"),
        ("CAMERA.example.", "93.184.216.34"),
        ("2606:4700::1", "2606:4700::1"),
        ("[2606:4700::1]", "2606:4700::1"),
    ],
)
async def test_public_addresses_pass_and_are_pinned(host: str, address: str) -> None:
    guard = NetGuard(resolver=RESOLVER)
    _, pinned, _ = await guard.check(host, 80)
    assert str(pinned) == address


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("0x7f000001", True),  # the real address is what the allow-list judges
        ("::ffff:127.0.0.1", True),
        ("127.0.0.2", False),
        ("10.20.30.40", True),
        ("10.21.0.1", False),
        ("169.254.169.254", False),  # metadata: never, whatever the allow-list says
        ("64:ff9b::7f00:1", False),  # a tunnel into an allowed network is not allowed
    ],
)
async def test_allow_list_names_networks(host: str, allowed: bool) -> None:
    guard = NetGuard(
        allow_networks=["127.0.0.1/32", "10.20.0.0/16", "169.254.0.0/16"], resolver=RESOLVER
    )
    if allowed:
        _, pinned, _ = await guard.check(host, 80)
        assert any(pinned in net for net in guard.allow_networks)
        assert ipaddress.ip_address(pinned) == pinned
    else:
        with pytest.raises(AddressRefused):
            await guard.check(host, 80)


async def test_mapped_address_is_pinned_to_ipv4() -> None:
    guard = NetGuard(allow_networks=["127.0.0.1/32"], resolver=RESOLVER)
    host, pinned, is_ip = await guard.check("::ffff:127.0.0.1", 80)
    assert (host, str(pinned), is_ip) == ("127.0.0.1", "127.0.0.1", True)


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("0x7f000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("0300.0250.1.1", "192.168.1.1"),
        ("example.com", None),
    ],
)
def test_inet_aton_parsing(spelling: str, expected: str | None) -> None:
    parsed = parse_ip_literal(spelling)
    assert (str(parsed) if parsed else None) == expected


async def test_ports_are_policy() -> None:
    guard = NetGuard(allowed_ports=[80, 554], resolver=RESOLVER)
    await guard.check("93.184.216.34", 554)
    for port in (22, 6379, 0, 70000):
        with pytest.raises(AddressRefused) as info:
            await guard.check("93.184.216.34", port)
        assert info.value.reason == "port"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://0x7f000001:8080/snap.jpg", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("rtsp://2130706433/live", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://loopback.example/", "loopback"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://93.184.216.34/", "scheme"),
        ("http://user:pw@93.184.216.34/", "invalid"),
        ("http://93.184.216.34\\@127.0.0.1/", "invalid"),
        ("http://93.184.216.34 /", "invalid"),
        ("http://93.184.216.34:99999/", "invalid"),
    ],
)
async def test_urls(url: str, reason: str) -> None:
    guard = NetGuard(resolver=RESOLVER)
    with pytest.raises(AddressRefused) as info:
        await guard.check_url(url)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://127.0.0.1/snap.jpg", "loopback"),
        ("http://2130706433/", "loopback"),
        ("//[::1]:8080/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/iam/", "metadata"),
        ("http://loopback.example/", "loopback"),
        ("rtsp://93.184.216.34/", "scheme"),
    ],
)
async def test_redirect_to_unchecked_address_is_refused(location: str, reason: str) -> None:
    guard = NetGuard(resolver=RESOLVER)
    with pytest.raises(AddressRefused) as info:
        await guard.check_redirect("http://camera.example/snap.jpg", location)
    assert info.value.reason == reason


async def test_relative_redirect_stays_on_checked_host() -> None:
    guard = NetGuard(resolver=RESOLVER)
    target = await guard.check_redirect("http://camera.example/a", "/b.jpg")
    assert (target.host, target.address, target.path) == (
        "camera.example",
        "93.184.216.34",
        "/b.jpg",
    )


async def test_dns_rebinding_cannot_move_a_pinned_connection() -> None:
    """The name resolves to loopback (allowed) at check time, then to the metadata service.

    The connection still goes to the checked address, the resolver is asked exactly once,
    and the pinned resolver refuses any name it was not given.
    """
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.headers["Host"])
        return web.Response(text="camera")

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        rebinding = FakeResolver({"rebind.example": [["127.0.0.1"], ["169.254.169.254"]]})
        guard = NetGuard(allow_networks=["127.0.0.1/32"], resolver=rebinding)
        target = await guard.check_url(f"http://rebind.example:{port}/")
        assert target.address == "127.0.0.1"
        # what a naive client would now get:
        assert await rebinding("rebind.example") == ["169.254.169.254"]
        async with (
            aiohttp.ClientSession(connector=pinned_connector(target)) as session,
            session.get(target.url, allow_redirects=False) as response,
        ):
            assert await response.text() == "camera"
        assert hits == [f"rebind.example:{port}"]
        assert rebinding.calls == ["rebind.example", "rebind.example"]  # check + our probe
        with pytest.raises(OSError):
            await PinnedResolver({"rebind.example": "127.0.0.1"}).resolve("other.example", port)
    finally:
        await runner.cleanup()
