"""The standard process_* and python_* series: from prometheus-client's collectors, through
the core's store, in both exposition formats, on a live daemon that promtool finds clean."""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from prometheus_client import ProcessCollector
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from sitroom import selfmetrics as sm
from sitroom.api import MetricSpec
from sitroom.metrics.exposition import render
from sitroom.metrics.runtime import RuntimeMetrics
from sitroom.metrics.store import MetricStore
from tests.support import DaemonProcess, http_get, require_tool, sample_value

STANDARD = ("process_cpu_seconds_total", "process_resident_memory_bytes",
            "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
            "process_start_time_seconds", "python_info", "python_gc_objects_collected_total",
            "python_gc_collections_total", "python_gc_objects_uncollectable_total")


def samples(text: str, openmetrics: bool = False) -> dict[tuple[str, tuple[tuple[str, str], ...]],
                                                          float]:
    parse = parse_openmetrics if openmetrics else parse_text
    return {(s.name, tuple(sorted(s.labels.items()))): float(s.value)
            for family in parse(text) for s in family.samples}


def runtime_store() -> tuple[MetricStore, RuntimeMetrics]:
    store = MetricStore()
    return store, RuntimeMetrics(store.writer("__sitroom__", sm.ALL))


def test_every_standard_series_is_rendered_in_both_formats() -> None:
    store, _ = runtime_store()
    text = samples(render(store))
    om = samples(render(store, openmetrics=True), openmetrics=True)  # the strict OM parser
    assert text == om
    names = {name for name, _ in text}
    assert names == set(STANDARD)
    version = platform.python_version_tuple()
    assert text[("python_info", (("implementation", platform.python_implementation()),
                                 ("major", version[0]), ("minor", version[1]),
                                 ("patchlevel", version[2]),
                                 ("version", platform.python_version())))] == 1
    assert {dict(labels)["generation"] for name, labels in text
            if name == "python_gc_collections_total"} == {"0", "1", "2"}


def test_values_are_the_clients_and_follow_the_process() -> None:
    store, runtime = runtime_store()
    first = samples(render(store))
    reference = {s.name: s.value for f in ProcessCollector(registry=None).collect()
                 for s in f.samples}
    for name in ("process_start_time_seconds", "process_max_fds"):
        assert first[(name, ())] == reference[name]
    assert 0 < first[("process_open_fds", ())] <= first[("process_max_fds", ())]
    assert first[("process_resident_memory_bytes", ())] > 10 * 2**20  # a Python with numpy
    assert first[("process_virtual_memory_bytes", ())] >= first[
        ("process_resident_memory_bytes", ())]
    assert time.time() - 3600 < first[("process_start_time_seconds", ())] < time.time()

    descriptors = [os.open(os.devnull, os.O_RDONLY) for _ in range(20)]
    try:
        deadline = time.process_time() + 0.3
        while time.process_time() < deadline:  # burn CPU time that the next read must show
            pass
        gc.collect(2)
        runtime.refresh()
        after = samples(render(store))
    finally:
        for fd in descriptors:
            os.close(fd)
    assert after[("process_open_fds", ())] >= first[("process_open_fds", ())] + 20
    assert after[("process_cpu_seconds_total", ())] >= first[
        ("process_cpu_seconds_total", ())] + 0.25
    gen2 = ("python_gc_collections_total", (("generation", "2"),))
    assert after[gen2] >= first[gen2] + 1


def test_standard_names_are_for_the_core_only() -> None:
    with pytest.raises(ValueError, match="names must match"):
        MetricSpec("process_open_fds", "gauge", "A plugin may not claim it.")
    assert MetricSpec("process_open_fds", "gauge", "The core may.", builtin=True)
    with pytest.raises(ValueError, match="names must match"):
        MetricSpec("node_load1", "gauge", "Other exporters' names stay refused.", builtin=True)


def test_a_live_daemon_exports_its_own_process_and_promtool_is_silent(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    config = tmp_path / "conf.d"
    config.mkdir()
    (config / "00.yaml").write_text(yaml.safe_dump(
        {"daemon": {"state_dir": str(tmp_path / "state")}}))
    before = time.time()
    with DaemonProcess(config) as daemon:
        daemon.wait_ready()
        text = daemon.metrics()
        status, om = http_get(f"{daemon.url}/metrics",
                              {"Accept": "application/openmetrics-text; version=1.0.0"})
        pid = daemon.proc.pid
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    assert status == 200 and om.endswith("# EOF\n")
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
    assert (check.stdout + check.stderr).strip() == ""
    parsed = samples(om, openmetrics=True)  # the strict parser accepts the whole scrape
    assert {name for name, _ in parsed} >= set(STANDARD)
    # the daemon's own process, not the test runner's: started after `before`
    start = sample_value(text, "process_start_time_seconds")
    assert start is not None and before - 1 <= start <= time.time()
    open_fds = sample_value(text, "process_open_fds")
    assert open_fds is not None and abs(open_fds - fds) <= 10
    assert "# UNIT process_cpu_seconds seconds" in om
