"""The standard process and Python series, from prometheus-client's own collectors.

`process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`,
`process_start_time_seconds`, `python_info`, `python_gc_*`: every Python exporter has them,
and SREs' stock alerts and boards query them. Reading them with client_python's
ProcessCollector, PlatformCollector and GCCollector means they mean exactly what they mean
elsewhere (the same /proc fields, the same clock-tick arithmetic). The values are copied into
the core's store once per scrape, so they are rendered with everything else: both exposition
formats, the store's declared names and types (`selfmetrics.RUNTIME`), and no second
registry to merge. A collect costs about 40 µs (reading /proc/self/stat, limits and fd/).
"""

from __future__ import annotations

import platform
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.metrics_core import Metric

from sitroom import selfmetrics as sm
from sitroom.metrics.store import MetricWriter

_BY_SAMPLE = {spec.name: spec for spec in sm.RUNTIME}


class RuntimeMetrics:
    """Writes the runtime series through a core writer that declares `selfmetrics.RUNTIME`."""

    def __init__(self, writer: MetricWriter) -> None:
        self._writer = writer
        self._process = ProcessCollector(registry=None)  # Linux only: yields nothing elsewhere
        # GCCollector registers itself on construction; give it a private registry. It only
        # works on CPython (gc.get_stats), where it is skipped by the client as well.
        self._gc = (GCCollector(registry=CollectorRegistry())
                    if platform.python_implementation() == "CPython" else None)
        self._write(PlatformCollector(registry=None).collect())  # fixed for the process' life
        self.refresh()

    def refresh(self) -> None:
        """Read the current values (call once per scrape, on the event loop)."""
        self._write(self._process.collect())
        if self._gc is not None:
            self._write(self._gc.collect())

    def _write(self, families: Iterable[Metric]) -> None:
        for family in families:
            for sample in family.samples:
                spec = _BY_SAMPLE.get(sample.name)
                if spec is not None:  # a newer client's extra series are not declared: skip
                    self._writer.set(spec, sample.value, **sample.labels)
