"""Metric families of the `cap_feed` and `earthquake_feed` kinds."""

from __future__ import annotations

from sitroom.api import MetricSpec

CAP_ALERTS_ACTIVE = MetricSpec(
    "sitroom_cap_alerts_active",
    "gauge",
    "Active CAP alerts (effective, not expired, not cancelled) by event, CAP severity, "
    "urgency, certainty and area (kecamatan slug, `semarang` city-wide, `outside`).",
    ("event", "severity", "urgency", "certainty", "area"),
)
CAP_ALERT_EXPIRES = MetricSpec(
    "sitroom_cap_alert_expires_timestamp_seconds",
    "gauge",
    "Latest expiry among the active alerts of an event over an area.",
    ("event", "area"),
    unit="seconds",
)
CAP_FLOOD_STATE = MetricSpec(
    "sitroom_cap_flood_state",
    "gauge",
    "PetaBencana flood state of an area, the highest among its active flood alerts: "
    "1 unknown depth, 2 10-70 cm, 3 71-150 cm, 4 over 150 cm.",
    ("area",),
)
CAP_ALERTS_RECEIVED = MetricSpec(
    "sitroom_cap_alerts_received_total",
    "counter",
    "CAP alerts taken, counted once per alert (sender, identifier, sent), by msgType.",
    ("msg_type",),
)
CAP_ALERTS_REFUSED = MetricSpec(
    "sitroom_cap_alerts_refused_total",
    "counter",
    "CAP documents or alerts not taken, by reason (hostile_xml, malformed_xml, not_cap, "
    "expired, not_actual, missing_field, bad_time, bad_severity, bad_area, too_large, "
    "foreign_link, fetch, outside).",
    ("reason",),
)
CAP_DOCUMENTS = MetricSpec(
    "sitroom_cap_documents_fetched_total",
    "counter",
    "Documents fetched (the index and the CAP files it links; known files are not "
    "fetched again).",
)
CAP_METRICS = (CAP_ALERTS_ACTIVE, CAP_ALERT_EXPIRES, CAP_FLOOD_STATE, CAP_ALERTS_RECEIVED,
               CAP_ALERTS_REFUSED, CAP_DOCUMENTS)

QUAKE_MAGNITUDE = MetricSpec(
    "sitroom_earthquake_latest_magnitude", "gauge", "Magnitude of the latest reported event."
)
QUAKE_DEPTH = MetricSpec(
    "sitroom_earthquake_latest_depth_meters", "gauge", "Depth of the latest event.",
    unit="meters",
)
QUAKE_DISTANCE = MetricSpec(
    "sitroom_earthquake_latest_distance_meters",
    "gauge",
    "Great-circle distance from the city centre (Simpang Lima) to the latest epicentre.",
    unit="meters",
)
QUAKE_TIME = MetricSpec(
    "sitroom_earthquake_latest_timestamp_seconds",
    "gauge",
    "Origin time of the latest event (Unix seconds).",
    unit="seconds",
)
QUAKE_FELT = MetricSpec(
    "sitroom_earthquake_latest_felt_mmi",
    "gauge",
    "Highest felt intensity (MMI, 1-12) BMKG lists for the latest event; 0 when none.",
)
QUAKE_CITY_FELT = MetricSpec(
    "sitroom_earthquake_latest_city_felt_mmi",
    "gauge",
    "Felt intensity (MMI) BMKG lists for Semarang for the latest event; 0 when not listed.",
)
QUAKE_TSUNAMI = MetricSpec(
    "sitroom_earthquake_latest_tsunami_potential",
    "gauge",
    "1 when BMKG says the latest event may cause a tsunami (absent when it does not say).",
)
QUAKE_INFO = MetricSpec(
    "sitroom_earthquake_latest_info",
    "info",
    "BMKG's words for the latest event (value 1): region and felt text, bounded.",
    ("region", "felt"),
)
QUAKE_EVENTS = MetricSpec(
    "sitroom_earthquake_events_total", "counter", "Distinct events seen in the feed."
)
QUAKE_REFUSED = MetricSpec(
    "sitroom_earthquake_records_refused_total",
    "counter",
    "Documents or event records not taken, by reason (hostile_xml, malformed_xml, "
    "malformed_json, not_bmkg, bad_number, bad_time, missing_field).",
    ("reason",),
)
QUAKE_METRICS = (QUAKE_MAGNITUDE, QUAKE_DEPTH, QUAKE_DISTANCE, QUAKE_TIME, QUAKE_FELT,
                 QUAKE_CITY_FELT, QUAKE_TSUNAMI, QUAKE_INFO, QUAKE_EVENTS, QUAKE_REFUSED)
