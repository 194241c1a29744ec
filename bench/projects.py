"""Cost of one poll of the `projects` and `http_json` kinds, at city scale.

projects: parse + evaluate + write N projects (CSV with kurva S curves), per poll.
http_json: decode + map + write a traffic response of N segments x 4 configured metrics,
through a real loopback HTTP server. Baseline in the same run: `json.loads` alone on the same
body (what any poller must pay), so the mapping's own cost is the difference.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path

from aiohttp import web

import sitroom_http_json
import sitroom_projects
from sitroom.testing import SourceHarness
from sitroom_projects.records import FIELDS

REPO = Path(__file__).resolve().parent.parent


def _projects_csv(count: int) -> str:
    rng = random.Random(7)
    lines = [",".join(FIELDS)]
    for i in range(count):
        curve = ";".join(f"2026-{m:02d}-01:{min(100, (m - 2) * 10)}" for m in range(3, 12))
        lines.append(
            f"P-{i},Paket {i},DPU,Genuk,jalan,{rng.randint(1, 90)}.000.000.000,2026-02-02,"
            f"2026-12-20,{curve},,{rng.uniform(0, 100):.1f},{rng.randint(1, 9)}00.000.000"
        )
    return "\n".join(lines) + "\n"


async def _bench_projects(count: int, rounds: int) -> tuple[float, float]:
    """Seconds per poll, and the part of it spent in the worker thread (parse + evaluate)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.csv"
        path.write_text(_projects_csv(count))
        config = {"kind": "projects", "name": "bench", "file": str(path), "timeout": 60}
        async with SourceHarness.from_plugin(sitroom_projects, config, max_series=10**6) as h:
            await h.collect()
            started = time.perf_counter()
            for _ in range(rounds):
                await h.collect()
            poll = (time.perf_counter() - started) / rounds
            body = path.read_bytes()
            started = time.perf_counter()
            for _ in range(rounds):
                h.source._parse(body, time.time())  # type: ignore[attr-defined]
            return poll, (time.perf_counter() - started) / rounds


def _traffic_body(count: int) -> bytes:
    return json.dumps({"segments": [
        {"id": f"s{i}", "name": f"Jl. {i}", "district": "Tugu", "speed_kmh": 20 + i % 30,
         "free_flow_kmh": 50, "level": "padat"} for i in range(count)
    ]}).encode()


async def _bench_http_json(count: int, rounds: int) -> tuple[float, float, float]:
    """Seconds per poll, of it decode + map in the worker thread, and json.loads alone."""
    body = _traffic_body(count)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/s", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    import yaml

    metrics = yaml.safe_load((REPO / "conf.d/61-traffic.yaml").read_text())["sources"][0]["metrics"]
    config = {"kind": "http_json", "name": "bench", "url": f"http://127.0.0.1:{port}/s",
              "metrics": [{**m, "max_items": 100_000} for m in metrics],
              "max_response_bytes": 64 * 1_048_576}
    try:
        async with SourceHarness.from_plugin(sitroom_http_json, config, max_series=10**6) as h:
            await h.collect()
            started = time.perf_counter()
            for _ in range(rounds):
                await h.collect()
            poll = (time.perf_counter() - started) / rounds
            started = time.perf_counter()
            for _ in range(rounds):
                h.source._map(body)  # type: ignore[attr-defined]
            threaded = (time.perf_counter() - started) / rounds
    finally:
        await runner.cleanup()
    started = time.perf_counter()
    for _ in range(rounds):
        json.loads(body)
    return poll, threaded, (time.perf_counter() - started) / rounds


def main() -> None:
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1m, 5m); "
          f"cpus: {os.cpu_count()}")
    for count in (100, 5000):
        seconds, threaded = asyncio.run(_bench_projects(count, 5))
        print(f"projects: {count} projects/poll: {seconds * 1000:.1f} ms per poll "
              f"({seconds / count * 1e6:.0f} us/project), of which parse+evaluate in the "
              f"worker thread {threaded * 1000:.1f} ms")
    for count in (100, 2000):
        poll, threaded, baseline = asyncio.run(_bench_http_json(count, 10))
        print(f"http_json: {count} segments x 4 metrics: {poll * 1000:.1f} ms per poll, of "
              f"which decode+map in the worker thread {threaded * 1000:.1f} ms; "
              f"baseline json.loads alone {baseline * 1000:.2f} ms")
