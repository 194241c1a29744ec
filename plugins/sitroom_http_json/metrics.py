"""The fixed families every `http_json` source has (its configured ones come from config)."""

from __future__ import annotations

from sitroom.api import MetricSpec

RESPONSE_SIZE = MetricSpec(
    "sitroom_http_json_response_size_bytes",
    "gauge",
    "Body size of the last successful response.",
    unit="bytes",
)
MAPPED_SERIES = MetricSpec(
    "sitroom_http_json_mapped_series",
    "gauge",
    "Series the last response filled for each configured metric (0: the API sent no items).",
    ("metric",),
)
FIELD_ERRORS = MetricSpec(
    "sitroom_http_json_field_errors_total",
    "counter",
    "Items skipped because a field was missing, of the wrong type or over a limit.",
    ("metric", "reason"),
)
FIXED = (RESPONSE_SIZE, MAPPED_SERIES, FIELD_ERRORS)
