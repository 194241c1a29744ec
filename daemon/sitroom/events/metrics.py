"""The event path's self-metrics: what was raised, how fast it reached Alertmanager, what
is waiting, and what failed. Declared like every other family, written by spec."""

from __future__ import annotations

from sitroom.declarations import MetricSpec

EVENTS_RAISED = MetricSpec(
    "sitroom_events_raised_total", "counter",
    "Events that became active (new incidents), by alert name, kind and severity.",
    ("alertname", "kind", "severity"), builtin=True)
EVENTS_RESOLVED = MetricSpec(
    "sitroom_events_resolved_total", "counter",
    "Active events that ended, by alert name and kind.", ("alertname", "kind"), builtin=True)
EVENTS_ACTIVE = MetricSpec(
    "sitroom_events_active", "gauge",
    "Events active now, by alert name, kind, severity and team (the wall's view of the "
    "pushed path, whose rules hold back).", ("alertname", "kind", "severity", "team"),
    builtin=True)
PUSH_READY = MetricSpec(
    "sitroom_alerting_push_ready", "gauge",
    "1 while alerting pushes events and at least one Alertmanager accepts them; the shipped "
    "rules that mirror pushed events hold back while it is 1.", builtin=True)
DELIVERY_LATENCY = MetricSpec(
    "sitroom_alerting_delivery_latency_seconds", "histogram",
    "Time from an event starting or ending to an Alertmanager accepting it.",
    ("alertmanager",), unit="seconds", builtin=True,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0))
QUEUE_LENGTH = MetricSpec(
    "sitroom_alerting_queue_length", "gauge",
    "Alerts waiting to be sent to an Alertmanager.", ("alertmanager",), builtin=True)
QUEUE_CAPACITY = MetricSpec(
    "sitroom_alerting_queue_capacity", "gauge",
    "Alerts a queue holds before the oldest is dropped.", ("alertmanager",), builtin=True)
ALERTS_SENT = MetricSpec(
    "sitroom_alerting_alerts_sent_total", "counter",
    "Alerts an Alertmanager accepted (re-sends included).", ("alertmanager",), builtin=True)
FAILURES = MetricSpec(
    "sitroom_alerting_failures_total", "counter",
    "Failed deliveries by reason: connect, timeout, http_5xx, rejected (4xx: the batch is "
    "dropped), queue_full (an alert dropped unsent).", ("alertmanager", "reason"),
    builtin=True)
MQTT_PUBLISHED = MetricSpec(
    "sitroom_events_mqtt_published_total", "counter",
    "Event and availability messages the MQTT broker acknowledged.", builtin=True)
MQTT_FAILURES = MetricSpec(
    "sitroom_events_mqtt_failures_total", "counter",
    "MQTT event publishing failures by reason (connect, queue_full).", ("reason",),
    builtin=True)
MQTT_CONNECTED = MetricSpec(
    "sitroom_events_mqtt_connected", "gauge",
    "1 while the MQTT event publisher is connected.", builtin=True)

ALL = (EVENTS_RAISED, EVENTS_RESOLVED, EVENTS_ACTIVE, PUSH_READY, DELIVERY_LATENCY,
       QUEUE_LENGTH, QUEUE_CAPACITY, ALERTS_SENT, FAILURES, MQTT_PUBLISHED, MQTT_FAILURES,
       MQTT_CONNECTED)
