"""Modbus registers polled per second, and memory per idle pump station.

The pump simulator runs as its own process (`sitroom simulate pumps`), as a PLC would be a
separate machine; the sources run here, in one event loop, exactly as in the daemon.
Measured in one run, side by side:

- one station, 1000 registers planned into 125-register reads (sitroom's plan), against the
  naive baseline of one request per register (what a point-by-point poller does);
- 20 stations polled concurrently (one connection each), aggregate registers/s;
- the demo's Kali Semarang station (shipped profiles: PLC + drive): poll latency;
- memory per idle station (connected, series written), by RSS and by tracemalloc.

Both processes share the machine's cores: figures are a floor for a real deployment,
where the PLCs do their own work.
"""

from __future__ import annotations

import asyncio
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

import sitroom_pumps
from sitroom.context import SourceContext
from sitroom.metrics.store import MetricStore
from sitroom.testing import kinds_of
from tests.support import ManagedProcess, free_port, http_get, wait_until

REPO = Path(__file__).resolve().parent.parent
CONF_DIR = REPO / "conf.d"
POINTS = 1000
IDLE_STATIONS = 100
CONCURRENT = 20


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Bench:
    def __init__(self, modbus_port: int) -> None:
        self.port = modbus_port
        self.kind = kinds_of(sitroom_pumps)["modbus_pump_station"]
        self.store = MetricStore()
        self.count = 0

    def source(self, config: dict[str, Any]) -> Any:
        self.count += 1
        name = f"bench-{self.count}"
        config = {"kind": "modbus_pump_station", "name": name, "host": "127.0.0.1",
                  "port": self.port, "request_timeout": "5s", **config}
        model = self.kind.config_model.model_validate(config, context={"base_dir": CONF_DIR})
        writer = self.store.writer(name, self.kind.metrics, (name,), 100_000)
        return self.kind.factory(model, SourceContext(name=name, kind=self.kind.name,
                                                      metrics=writer))

    def wide(self, max_registers: int = 125) -> Any:
        return self.source({
            "max_registers_per_read": max_registers, "station": {"id": "wide"},
            "devices": [{"unit": 1, "pumps": [f"P{i}" for i in range(POINTS)], "map": {
                "pump": {"stride": 1, "points": [{"role": "current", "address": 1000}]}}}]})

    def demo(self) -> Any:
        sources = yaml.safe_load((CONF_DIR / "30-pumps.yaml").read_text())["sources"]
        config = next(s for s in sources if s["name"] == "rp-kali-semarang")
        config = {k: v for k, v in config.items() if k not in ("kind", "name", "port", "host")}
        return self.source(config)


async def poll_for(sources: list[Any], seconds: float) -> tuple[int, float, float, list[float]]:
    """Poll each source back to back until `seconds` pass; (polls, wall, cpu, latencies)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop(source: Any) -> int:
        polls = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await source.collect()
            latencies.append(time.perf_counter() - started)
            polls += 1
        return polls

    for source in sources:  # connect first: measure polling, not the handshake
        await source.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    polls = sum(await asyncio.gather(*(loop(s) for s in sources)))
    return polls, time.perf_counter() - wall, time.process_time() - cpu, latencies


async def run(bench: Bench) -> list[str]:
    lines: list[str] = []

    merged = bench.wide()
    polls, wall, cpu, lat = await poll_for([merged], 6.0)
    requests = len(merged.reads)
    lines.append(f"1 station, {POINTS} registers in {requests} reads (sitroom plan): "
                 f"{polls * POINTS / wall:,.0f} registers/s, {polls * requests / wall:,.0f} "
                 f"requests/s, poll median {statistics.median(lat) * 1000:.1f} ms, "
                 f"client CPU {cpu / (polls * POINTS) * 1e6:.1f} us/register")
    await merged.close()

    naive = bench.wide(max_registers=1)
    polls, wall, cpu, lat = await poll_for([naive], 6.0)
    lines.append(f"baseline, same {POINTS} registers one request each: "
                 f"{polls * POINTS / wall:,.0f} registers/s ({polls * POINTS / wall:,.0f} "
                 f"requests/s), poll median {statistics.median(lat) * 1000:.1f} ms, "
                 f"client CPU {cpu / (polls * POINTS) * 1e6:.1f} us/register")
    await naive.close()

    many = [bench.wide() for _ in range(CONCURRENT)]
    polls, wall, cpu, lat = await poll_for(many, 6.0)
    lines.append(f"{CONCURRENT} stations concurrently ({POINTS} registers each): "
                 f"{polls * POINTS / wall:,.0f} registers/s aggregate, poll median "
                 f"{statistics.median(lat) * 1000:.1f} ms")
    for source in many:
        await source.close()

    demo = bench.demo()
    polls, wall, cpu, lat = await poll_for([demo], 3.0)
    lat.sort()
    lines.append(f"demo station rp-kali-semarang ({len(demo.points)} points, "
                 f"{len(demo.reads)} requests/poll): poll median "
                 f"{statistics.median(lat) * 1000:.2f} ms, p95 "
                 f"{lat[int(len(lat) * 0.95)] * 1000:.2f} ms, client CPU "
                 f"{cpu / polls * 1000:.2f} ms/poll")
    await demo.close()

    gc.collect()
    tracemalloc.start()
    before_rss, before_py = rss_bytes(), tracemalloc.get_traced_memory()[0]
    idle = [bench.demo() for _ in range(IDLE_STATIONS)]
    for source in idle:
        await source.collect()
    gc.collect()
    after_rss, after_py = rss_bytes(), tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    series = sum(s.metrics.series_count for s in idle) / IDLE_STATIONS
    lines.append(f"memory per idle station (demo profile, connected, {series:.0f} series): "
                 f"{(after_rss - before_rss) / IDLE_STATIONS / 1024:.0f} KiB RSS, "
                 f"{(after_py - before_py) / IDLE_STATIONS / 1024:.0f} KiB Python heap "
                 f"(tracemalloc), over {IDLE_STATIONS} stations")
    for source in idle:
        await source.close()
    return lines


def main() -> None:
    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, pymodbus {version('pymodbus')}, load before: {load}")
    control, modbus = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-pumps-") as tmp:
        config = Path(tmp) / "sim.yaml"
        config.write_text(yaml.safe_dump({
            "control_port": control, "tick": 3600,
            "stations": [{"id": "bench", "port": modbus, "pumps": [
                {"name": "P1"}, {"name": "P2"}, {"name": "P3", "drive": "vsd"}]}]}))
        args = [sys.executable, "-m", "sitroom.cli", "simulate", "pumps", "--config",
                str(config)]
        with ManagedProcess(args, cwd=REPO) as proc:
            wait_until(lambda: http_get(f"http://127.0.0.1:{control}/state")[0] == 200,
                       timeout=20, what=f"simulator: {proc.output()}")
            lines = asyncio.run(run(Bench(modbus)))
    for line in lines:
        print(line)
    with open("/proc/loadavg") as loadavg:
        print(f"load after: {' '.join(loadavg.read().split()[:3])}")


if __name__ == "__main__":
    main()
