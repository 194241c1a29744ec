"""Camera registry: what durability costs, how fast the SSRF guard judges, API throughput.

Figures: registrations committed per second with `synchronous=FULL` (what the registry
uses) against `NORMAL` (the baseline), measured in the same run on the same disk; guard
verdicts per second; sequential public POSTs per second through the in-process daemon
(validation + guard + commit + JSON), no probes reached (the stream port is closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

COMMITS = 300
REQUESTS = 200


def _fields(i: int) -> dict[str, object]:
    return {
        "owner_name": f"Pemilik {i}",
        "contact_phone": "081234567890",
        "contact_email": None,
        "owner_type": "citizen",
        "address": "Jl. Pemuda 1",
        "district": "Tugu",
        "location_name": None,
        "latitude": -6.98,
        "longitude": 110.3,
        "protocol": "http",
        "host": "127.0.0.1",
        "port": 80,
        "path": "/snap.jpg",
        "pinned_address": "127.0.0.1",
        "source": "bench",
    }


def bench_commits(directory: Path, synchronous: str) -> float:
    from sitroom_registry.store import RegistryStore

    store = RegistryStore(directory / f"{synchronous}.sqlite3").open()
    store.conn.execute(f"PRAGMA synchronous = {synchronous}")
    started = time.perf_counter()
    for i in range(COMMITS):
        store.create(_fields(i), "admin", "pw", "bench")
    elapsed = time.perf_counter() - started
    store.close()
    return COMMITS / elapsed


def bench_guard() -> float:
    from sitroom.netguard import AddressRefused, NetGuard

    guard = NetGuard(allow_networks=["10.50.0.0/16"])
    hosts = [
        "93.184.216.34",
        "0x7f000001",
        "2130706433",
        "::ffff:127.0.0.1",
        "10.50.1.2",
        "169.254.169.254",
        "2606:4700::1",
        "017700000001",
    ] * 1250

    async def run() -> float:
        started = time.perf_counter()
        for host in hosts:
            with contextlib.suppress(AddressRefused):
                await guard.check(host, 80)
        return len(hosts) / (time.perf_counter() - started)

    return asyncio.run(run())


async def bench_api(directory: Path) -> tuple[float, float]:
    import sitroom_registry
    from sitroom.daemon import Daemon
    from sitroom.plugins import load_plugins

    (directory / "token").write_text("bench-token-0123456789\n")
    daemon_cfg = {
        "listen": "127.0.0.1:0",
        "state_dir": str(directory / "state"),
        "auth": {"token_file": str(directory / "token")},
    }
    source = {
        "kind": "camera_registry",
        "name": "registry",
        "allow_networks": ["127.0.0.1/32"],
        "allowed_ports": [9],
        "probe_concurrency": 1,
        "registration_limit": {"per_minute": 600000, "burst": 100000},
    }
    (directory / "a.yaml").write_text(yaml.safe_dump({"daemon": daemon_cfg, "sources": [source]}))
    plugins = load_plugins(use_entry_points=False, extra=[("registry", sitroom_registry)])
    daemon = Daemon(directory, plugins=plugins)
    await daemon.start()
    host, port = daemon.bound_addresses[0]
    body = {
        "owner_name": "Pemilik Bench",
        "contact_phone": "081234567890",
        "owner_type": "citizen",
        "address": "Jl. Pemuda 1",
        "district": "Tugu",
        "latitude": -6.98,
        "longitude": 110.3,
        "stream": {"url": "http://127.0.0.1:9/snap.jpg"},
        "consent": True,
    }
    latencies: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://{host}:{port}/api/v1/registrations"
            while True:  # until the store is open
                async with session.post(url, json=body) as response:
                    if response.status == 201:
                        break
                await asyncio.sleep(0.05)
            started = time.perf_counter()
            for _ in range(REQUESTS):
                t0 = time.perf_counter()
                async with session.post(url, json=body) as response:
                    assert response.status == 201, await response.text()
                latencies.append(time.perf_counter() - t0)
            total = time.perf_counter() - started
    finally:
        await daemon.stop()
    return REQUESTS / total, statistics.median(latencies) * 1000


def main() -> None:
    print(
        f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1/5 min), cpus: {os.cpu_count()}"
    )
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-registry-") as tmp:
        root = Path(tmp)
        normal = bench_commits(root, "NORMAL")
        full = bench_commits(root, "FULL")
        print(f"registrations committed/s, WAL synchronous=NORMAL (baseline): {normal:8.0f}")
        print(f"registrations committed/s, WAL synchronous=FULL   (used):     {full:8.0f}")
        print(f"guard verdicts/s (literal addresses, 8 spellings):            {bench_guard():8.0f}")
        api_dir = root / "api"
        api_dir.mkdir()
        rate, median_ms = asyncio.run(bench_api(api_dir))
        print(
            f"public POST /api/v1/registrations, sequential: {rate:6.0f}/s, "
            f"median {median_ms:.1f} ms"
        )


if __name__ == "__main__":
    main()
