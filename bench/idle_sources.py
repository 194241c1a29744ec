"""Memory and CPU per idle source in the core: what a city of thousands of sources costs
before any plugin does real work.

Starts the daemon in-process with N sources of a trivial polling kind (one gauge each,
polled every 10 s) and measures resident memory growth and CPU over an idle minute-fraction.
Baseline in the same run: the same process with zero sources.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import yaml

from sitroom.api import MetricSpec, PollingSource, SourceConfig, SourceKind, hookimpl
from sitroom.daemon import Daemon
from sitroom.logging import configure_logging
from sitroom.plugins import load_plugins

VALUE = MetricSpec("sitroom_bench_idle_value", "gauge", "One value per source.", ("entity",))


class Idle(PollingSource):
    async def collect(self) -> None:
        self.metrics.set(VALUE, 1.0, entity="e")


class IdleConfig(SourceConfig):
    pass


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [SourceKind("bench_idle", IdleConfig, Idle, (VALUE,))]


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def measure(count: int, settle: float = 12.0) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp)
        sources = [{"kind": "bench_idle", "name": f"idle-{i:05d}", "interval": "10s"}
                   for i in range(count)]
        (conf / "sources.yaml").write_text(yaml.safe_dump({
            "daemon": {"state_dir": str(conf / "state")}, "sources": sources}))
        plugins = load_plugins(extra=[("bench_idle", SimpleNamespace(
            sitroom_source_kinds=sitroom_source_kinds))], use_entry_points=False)
        before = rss_bytes()
        daemon = Daemon(conf, listen="127.0.0.1:0", plugins=plugins)
        await daemon.start()
        await asyncio.sleep(2)
        cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        await asyncio.sleep(settle)
        cpu1, wall1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        grown = rss_bytes() - before
        await daemon.stop()
    cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / (wall1 - wall0)
    return grown, cpu


def one(count: int) -> str:
    grown, cpu = asyncio.run(measure(count))
    per = f"{grown / count / 1024:.1f} KiB" if count else "-"
    return f"{count:>8} {grown / 2**20:>9.1f} MiB {per:>11} {cpu:>12.3f}"


def main() -> None:
    """Each count in a fresh process: memory freed by one run would flatter the next."""
    print(f"machine: {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}")
    print(f"{'sources':>8} {'RSS growth':>12} {'per source':>11} {'CPU (cores)':>12}")
    for count in (0, 1000, 5000):
        result = subprocess.run([sys.executable, "-m", "bench.idle_sources", str(count)],
                                capture_output=True, text=True, check=True, timeout=120)
        print(result.stdout.rstrip("\n").splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        configure_logging("warning")
        print(one(int(sys.argv[1])))
    else:
        main()
