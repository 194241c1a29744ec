"""`/metrics` render time at 10k and 100k series: sitroom's store vs plain prometheus-client.

Both hold the same data: 10 gauge families with `source` and `sensor` labels, spread over
100 sources. prometheus-client is measured with `generate_latest` on its own registry, the
way an exporter built on it would serve a scrape. Also measures the full HTTP path
(request, render, response) through the daemon's aiohttp app for the 100k case.

The write path (what every poll and every MQTT message pays) is timed too: updating existing
series through a source's writer by declared spec, against prometheus-client's
`Gauge.labels(...).set(...)`; and by family name where the store still accepts one (before
writes were bound to their declarations), so a baseline run of the previous code shows what
plugins paid then.

Then the cost of the standard process_* and python_* series (sitroom.metrics.runtime): the
same store rendered without them ("before") and with them, refreshed from prometheus-client's
collectors as every scrape does ("after"), interleaved in one run so load hits both alike.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from sitroom import selfmetrics as sm
from sitroom.api import MetricSpec
from sitroom.metrics.exposition import render
from sitroom.metrics.runtime import RuntimeMetrics
from sitroom.metrics.store import MetricStore

FAMILIES = 10
SOURCES = 100


def build(series: int) -> tuple[MetricStore, CollectorRegistry]:
    per_source_family = series // (FAMILIES * SOURCES)
    specs = [MetricSpec(f"sitroom_bench_{i}_meters", "gauge", "Bench level.", ("sensor",),
                        unit="meters") for i in range(FAMILIES)]
    store = MetricStore()
    registry = CollectorRegistry()
    gauges = [Gauge(s.name, s.help, ("source", "sensor"), registry=registry) for s in specs]
    for src in range(SOURCES):
        writer = store.writer(f"src-{src}", specs, (f"src-{src}",))
        for spec, gauge in zip(specs, gauges, strict=True):
            for entity in range(per_source_family):
                value = entity * 0.25 + src
                writer.set(spec, value, sensor=f"sensor-{entity}")
                gauge.labels(f"src-{src}", f"sensor-{entity}").set(value)
    return store, registry


def touch_all(store: MetricStore) -> None:
    """Change every value, so the next render cannot reuse a cached line (worst case)."""
    for family in store.iter_families():
        for owned in family.by_owner.values():
            for series in owned.values():
                series.value += 1.0  # type: ignore[operator]
                series.line = None


def timed(func, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"python {platform.python_version()}, load {os.getloadavg()[0]:.2f}")
    print(f"{'series':>8} {'sitroom, all changed':>21} {'sitroom, unchanged':>19} "
          f"{'sitroom OM':>11} {'prometheus-client':>18} {'speed-up (worst)':>17}")
    for series in (10_000, 100_000):
        store, registry = build(series)
        repeat = 15 if series <= 10_000 else 7
        worst = []
        for _ in range(repeat):
            touch_all(store)
            worst.append(timed(lambda s=store: render(s), 1))
        ours = statistics.median(worst)
        cached = timed(lambda s=store: render(s), repeat)
        ours_om = timed(lambda s=store: render(s, openmetrics=True), repeat)
        theirs = timed(lambda r=registry: generate_latest(r), repeat)
        assert render(store).count("\n") >= series
        print(f"{series:>8} {ours * 1000:>18.1f} ms {cached * 1000:>16.1f} ms "
              f"{ours_om * 1000:>8.1f} ms {theirs * 1000:>15.1f} ms {theirs / ours:>16.1f}x")
    write_rates()
    runtime_cost()


WRITES = 100_000


def write_rates() -> None:
    """Writes per second to existing series: the per-poll cost of a plugin's `set`."""
    specs = [MetricSpec(f"sitroom_bench_{i}_meters", "gauge", "Bench level.", ("sensor",),
                        unit="meters") for i in range(FAMILIES)]
    store = MetricStore()
    writer = store.writer("src", specs, ("src",))
    registry = CollectorRegistry()
    gauges = [Gauge(s.name, s.help, ("source", "sensor"), registry=registry) for s in specs]
    sensors = [f"sensor-{n}" for n in range(WRITES // FAMILIES // 10)]
    plan = [(spec, gauge, sensor) for sensor in sensors for spec, gauge in zip(specs, gauges,
                                                                               strict=True)]
    for spec, gauge, sensor in plan:
        writer.set(spec, 0.0, sensor=sensor)
        gauge.labels("src", sensor).set(0.0)

    def by_spec() -> None:
        for _ in range(10):
            for spec, _gauge, sensor in plan:
                writer.set(spec, 1.5, sensor=sensor)

    def by_name() -> None:
        for _ in range(10):
            for spec, _gauge, sensor in plan:
                writer.set(spec.name, 1.5, sensor=sensor)  # type: ignore[arg-type]

    def client() -> None:
        for _ in range(10):
            for _spec, gauge, sensor in plan:
                gauge.labels("src", sensor).set(1.5)

    total = 10 * len(plan)
    rows = [("sitroom set(SPEC, ...)", by_spec), ("sitroom set(\"name\", ...)", by_name),
            ("prometheus-client labels().set()", client)]
    for label, func in rows:
        try:
            seconds = timed(func, 5)
        except TypeError:
            print(f"{label:>34}: refused (writes take the declared spec)")
            continue
        print(f"{label:>34}: {total / seconds / 1e6:5.2f} M writes/s "
              f"({seconds / total * 1e9:.0f} ns each)")


def runtime_cost(rounds: int = 21) -> None:
    """Render time without and with the runtime series (values unchanged and all changed)."""
    print(f"\nprocess/GC series (load {os.getloadavg()[0]:.2f}): median of {rounds}, "
          "before and after interleaved")
    print(f"{'series':>8} {'case':>12} {'before':>10} {'after':>10} {'added':>10} "
          f"{'refresh alone':>14}")
    for series in (0, 10_000, 100_000):
        store = build(series)[0] if series else MetricStore()
        plain, with_runtime = store, (build(series)[0] if series else MetricStore())
        runtime = RuntimeMetrics(with_runtime.writer("__sitroom__", sm.ALL))
        for case in ("unchanged", "all changed"):
            before, after, refresh = [], [], []
            for _ in range(rounds):
                if case == "all changed":
                    touch_all(plain)
                    touch_all(with_runtime)
                before.append(timed(lambda s=plain: render(s), 1))
                after.append(timed(lambda s=with_runtime, r=runtime: (r.refresh(), render(s)), 1))
                refresh.append(timed(runtime.refresh, 1))
            b, a = statistics.median(before), statistics.median(after)
            print(f"{series:>8} {case:>12} {b * 1000:>7.3f} ms {a * 1000:>7.3f} ms "
                  f"{(a - b) * 1000:>7.3f} ms {statistics.median(refresh) * 1e6:>10.0f} us")


if __name__ == "__main__":
    main()
