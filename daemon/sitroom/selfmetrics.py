"""The daemon's metrics about itself, so SREs can alert on sitroom like on any exporter."""

from __future__ import annotations

from sitroom.declarations import MetricSpec
from sitroom.events.metrics import ALL as EVENT_METRICS

KS = ("kind", "source")

SOURCE_UP = MetricSpec(
    "sitroom_source_up",
    "gauge",
    "1 if the source's last collection or connection succeeded.",
    KS,
    builtin=True,
)
SOURCE_LAST_SUCCESS = MetricSpec(
    "sitroom_source_last_success_timestamp_seconds",
    "gauge",
    "Unix time of the source's last successful collection or received data.",
    KS,
    unit="seconds",
    builtin=True,
)
SOURCE_DURATION = MetricSpec(
    "sitroom_source_collect_duration_seconds",
    "histogram",
    "Time one poll of the source took (polling sources).",
    KS,
    unit="seconds",
    builtin=True,
)
SOURCE_ERRORS = MetricSpec(
    "sitroom_source_errors_total",
    "counter",
    "Failed collections or connections, by reason.",
    (*KS, "reason"),
    builtin=True,
)
SOURCE_SERIES = MetricSpec(
    "sitroom_source_series", "gauge", "Series the source currently exposes.", KS, builtin=True
)
SOURCE_DROPPED = MetricSpec(
    "sitroom_source_series_dropped_total",
    "counter",
    "New series refused because the source hit its series limit.",
    KS,
    builtin=True,
)
SOURCE_RESTARTS = MetricSpec(
    "sitroom_source_restarts_total",
    "counter",
    "Reconnects of streaming sources and restarts after a crash.",
    KS,
    builtin=True,
)
SOURCE_INFO = MetricSpec(
    "sitroom_source_info",
    "info",
    "Configured sources, with their kind and plugin.",
    (*KS, "plugin"),
    builtin=True,
)
BUILD_INFO = MetricSpec(
    "sitroom_build_info",
    "info",
    "sitroom build information.",
    ("version", "python_version"),
    builtin=True,
)
DOCS_INFO = MetricSpec(
    "sitroom_docs_info",
    "info",
    "Where this daemon serves its runbooks (daemon.public_url + /docs/runbooks); alert "
    "rules and boards build their runbook links from it.",
    ("runbooks",),
    builtin=True,
)
PLUGIN_LOADED = MetricSpec(
    "sitroom_plugin_loaded",
    "gauge",
    "1 if the plugin loaded, 0 if it failed to.",
    ("plugin",),
    builtin=True,
)
PLUGIN_FAILURES = MetricSpec(
    "sitroom_plugin_failures_total",
    "counter",
    "Failures of a plugin's import, registration or hooks, by stage (log says which).",
    ("plugin", "stage"),
    builtin=True,
)
CONFIG_RELOAD_OK = MetricSpec(
    "sitroom_config_last_reload_successful",
    "gauge",
    "1 if the last configuration load or reload succeeded.",
    builtin=True,
)
CONFIG_RELOAD_TS = MetricSpec(
    "sitroom_config_last_reload_success_timestamp_seconds",
    "gauge",
    "Unix time of the last successful configuration load.",
    unit="seconds",
    builtin=True,
)
CONFIG_INVALID_SOURCES = MetricSpec(
    "sitroom_config_invalid_sources",
    "gauge",
    "Sources skipped at startup because their config is invalid or their kind is unknown.",
    builtin=True,
)
LOOP_LAG = MetricSpec(
    "sitroom_event_loop_lag_seconds",
    "gauge",
    "How late the event loop ran a timer at the last check (blocking work shows here).",
    unit="seconds",
    builtin=True,
)
SHARD_INFO = MetricSpec(
    "sitroom_shard_info",
    "info",
    "Which shard of how many this replica serves.",
    ("shard", "shards"),
    builtin=True,
)
SHARD_ORDINAL = MetricSpec(
    "sitroom_shard_ordinal",
    "gauge",
    "The shard this replica serves, numbered from 0 (0 when unsharded).",
    builtin=True,
)
# Named like kube-state-metrics' `kube_state_metrics_total_shards`: a `_total` suffix is
# reserved for counters.
TOTAL_SHARDS = MetricSpec(
    "sitroom_total_shards",
    "gauge",
    "How many shards this replica believes the city is split into (1 when unsharded).",
    builtin=True,
)
SCRAPE_DURATION = MetricSpec(
    "sitroom_metrics_render_duration_seconds",
    "gauge",
    "Time the previous /metrics response took to render.",
    unit="seconds",
    builtin=True,
)
HTTP_ERRORS = MetricSpec(
    "sitroom_http_request_errors_total",
    "counter",
    "HTTP requests a handler failed on unexpectedly (reason=internal): each one is a bug.",
    ("reason",),
    builtin=True,
)

# The standard series every Prometheus exporter has, with client_python's names and help
# (written by sitroom.metrics.runtime from prometheus-client's own collectors): SREs' stock
# alerts and boards for file descriptors, memory, CPU and restarts query exactly these.
PROCESS_CPU = MetricSpec(
    "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
    unit="seconds", builtin=True,
)
PROCESS_VIRTUAL_MEMORY = MetricSpec(
    "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", unit="bytes",
    builtin=True,
)
PROCESS_RESIDENT_MEMORY = MetricSpec(
    "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", unit="bytes",
    builtin=True,
)
PROCESS_START_TIME = MetricSpec(
    "process_start_time_seconds", "gauge",
    "Start time of the process since unix epoch in seconds.", unit="seconds", builtin=True,
)
PROCESS_OPEN_FDS = MetricSpec(
    "process_open_fds", "gauge", "Number of open file descriptors.", builtin=True
)
PROCESS_MAX_FDS = MetricSpec(
    "process_max_fds", "gauge", "Maximum number of open file descriptors.", builtin=True
)
PYTHON_INFO = MetricSpec(  # a gauge named _info, as client_python exposes it
    "python_info", "gauge", "Python platform information",
    ("implementation", "major", "minor", "patchlevel", "version"), builtin=True,
)
GC_COLLECTED = MetricSpec(
    "python_gc_objects_collected_total", "counter", "Objects collected during gc",
    ("generation",), builtin=True,
)
GC_UNCOLLECTABLE = MetricSpec(
    "python_gc_objects_uncollectable_total", "counter", "Uncollectable objects found during GC",
    ("generation",), builtin=True,
)
GC_COLLECTIONS = MetricSpec(
    "python_gc_collections_total", "counter", "Number of times this generation was collected",
    ("generation",), builtin=True,
)
RUNTIME = (
    PROCESS_CPU,
    PROCESS_VIRTUAL_MEMORY,
    PROCESS_RESIDENT_MEMORY,
    PROCESS_START_TIME,
    PROCESS_OPEN_FDS,
    PROCESS_MAX_FDS,
    PYTHON_INFO,
    GC_COLLECTED,
    GC_UNCOLLECTABLE,
    GC_COLLECTIONS,
)

PER_SOURCE = (
    SOURCE_UP,
    SOURCE_LAST_SUCCESS,
    SOURCE_DURATION,
    SOURCE_ERRORS,
    SOURCE_SERIES,
    SOURCE_DROPPED,
    SOURCE_RESTARTS,
    SOURCE_INFO,
)
ALL = (
    *PER_SOURCE,
    BUILD_INFO,
    DOCS_INFO,
    PLUGIN_LOADED,
    PLUGIN_FAILURES,
    CONFIG_RELOAD_OK,
    CONFIG_RELOAD_TS,
    CONFIG_INVALID_SOURCES,
    LOOP_LAG,
    SHARD_INFO,
    SHARD_ORDINAL,
    TOTAL_SHARDS,
    SCRAPE_DURATION,
    HTTP_ERRORS,
    *RUNTIME,
    *EVENT_METRICS,
)
