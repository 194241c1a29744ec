"""The registry's metric families and the helpers that keep them consistent.

Labels are low-cardinality on purpose: status (7), district (16), probe result, endpoint
and action. Nothing about an owner or a stream address is ever a label.
"""

from __future__ import annotations

from sitroom.api import MetricSpec, MetricWriter
from sitroom_registry.lifecycle import ADMIN_ACTIONS as LIFECYCLE_ACTIONS
from sitroom_registry.lifecycle import STATUSES
from sitroom_registry.models import DISTRICTS
from sitroom_registry.probe import RESULTS

REGISTRATIONS = MetricSpec(
    "sitroom_registry_registrations",
    "gauge",
    "Camera registrations by lifecycle status and district (kecamatan).",
    ("status", "district"),
)
REQUESTS = MetricSpec(
    "sitroom_registry_requests_total",
    "counter",
    "Public registry requests by endpoint and outcome (accepted, invalid, rate_limited, ...).",
    ("endpoint", "result"),
)
PROBES = MetricSpec(
    "sitroom_registry_probes_total",
    "counter",
    "Stream probes of registered cameras by result (ok, refused, connect, timeout, ...).",
    ("result",),
)
PROBE_DURATION = MetricSpec(
    "sitroom_registry_probe_duration_seconds",
    "histogram",
    "Time to open a registered stream and decode one frame (or fail).",
    unit="seconds",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ADMIN = MetricSpec(
    "sitroom_registry_admin_actions_total",
    "counter",
    "Administrator actions on registrations (approve, suspend, retire, reprobe, edit).",
    ("action",),
)
PUBLISHED = MetricSpec(
    "sitroom_registry_published_cameras",
    "gauge",
    "Active registrations handed to the daemon as camera sources (before sharding).",
)
ADMIN_ACTION_NAMES = (*LIFECYCLE_ACTIONS, "edit")
ALL = (REGISTRATIONS, REQUESTS, PROBES, PROBE_DURATION, ADMIN, PUBLISHED)

REQUEST_RESULTS = {
    "register": ("accepted", "invalid", "rate_limited", "busy", "too_large", "malformed",
                 "internal"),
    "status": ("found", "not_found", "rate_limited", "internal"),
}


def initialise(metrics: MetricWriter) -> None:
    """Zero every counter series up front: `rate()` needs a series before the first event."""
    for endpoint, results in REQUEST_RESULTS.items():
        for result in results:
            metrics.inc(REQUESTS, 0, endpoint=endpoint, result=result)
    for result in RESULTS:
        metrics.inc(PROBES, 0, result=result)
    for action in ADMIN_ACTION_NAMES:
        metrics.inc(ADMIN, 0, action=action)
    metrics.set(PUBLISHED, 0)


def set_counts(metrics: MetricWriter, counts: dict[tuple[str, str], int]) -> None:
    """Every status x district pair, zeros included, so dashboards never see gaps."""
    for status in STATUSES:
        for district in DISTRICTS:
            metrics.set(
                REGISTRATIONS,
                counts.get((status, district), 0),
                status=status,
                district=district,
            )
