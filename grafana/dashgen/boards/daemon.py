"""Daemon health (SRE): is sitroom scraping, collecting, reloading and keeping up?"""

from __future__ import annotations

from typing import Any

from dashgen.builders import (
    GREEN,
    RED,
    UID_DAEMON,
    UID_OVERVIEW,
    YELLOW,
    Panel,
    Query,
    board_link,
    dashboard,
    query_var,
    row,
    runbook_link,
)

SRC = 'source=~"$source", kind=~"$kind"'


def build() -> dict[str, Any]:
    items = [
        row("Replicas"),
        Panel("stat", "Replicas up", [Query('sum(up{job="sitroom"})', instant=True)], w=4, h=4,
              description="Daemon replicas Prometheus scrapes successfully.",
              thresholds=[(None, RED), (1, GREEN)], links=[runbook_link("SitroomDown")]),
        Panel("stat", "Sources down", [Query(f"sum(1 - sitroom_source_up{{{SRC}}})",
                                              instant=True)], w=4, h=4,
              thresholds=[(None, GREEN), (1, YELLOW), (5, RED)],
              links=[runbook_link("SitroomSourceDown")]),
        Panel("stat", "Config reload", [Query("min(sitroom_config_last_reload_successful)",
                                               instant=True)], w=4, h=4,
              mappings=[{"type": "value", "options": {
                  "0": {"text": "FAILED", "color": RED, "index": 0},
                  "1": {"text": "OK", "color": GREEN, "index": 1}}}],
              thresholds=[(None, RED), (1, GREEN)],
              links=[runbook_link("SitroomConfigReloadFailed")]),
        Panel("stat", "Invalid sources skipped",
              [Query("sum(sitroom_config_invalid_sources)", instant=True)], w=4, h=4,
              thresholds=[(None, GREEN), (1, YELLOW)],
              links=[runbook_link("SitroomConfigInvalidSources")]),
        Panel("stat", "Plugins not loaded",
              [Query("count(sitroom_plugin_loaded == 0) or vector(0)", instant=True)],
              w=4, h=4, thresholds=[(None, GREEN), (1, RED)],
              links=[runbook_link("SitroomPluginLoadFailed")]),
        Panel("stat", "Last config load", [Query(
            "time() - max(sitroom_config_last_reload_success_timestamp_seconds)",
            instant=True)], w=4, h=4, unit="s", description="Age of the running configuration."),
        row("Sources"),
        Panel("table", "Sources by kind",
              [Query(f"sum by (kind) (sitroom_source_up{{{SRC}}})", "up", instant=True,
                     table=True),
               Query(f"count by (kind) (sitroom_source_up{{{SRC}}})", "configured",
                     instant=True, table=True)],
              w=8, h=9, transformations=[
                  {"id": "merge", "options": {}},
                  {"id": "organize", "options": {"excludeByName": {"Time": True},
                                                 "renameByName": {"Value #A": "up",
                                                                  "Value #B": "configured"}}}],
              links=[runbook_link("SitroomManySourcesDown")]),
        Panel("state-timeline", "Source up", [Query(f"sitroom_source_up{{{SRC}}}",
                                                    "{{source}}")], w=16, h=9,
              thresholds=[(None, RED), (1, GREEN)],
              mappings=[{"type": "value", "options": {
                  "0": {"text": "down", "color": RED, "index": 0},
                  "1": {"text": "up", "color": GREEN, "index": 1}}}],
              options={"showValue": "never", "mergeValues": True, "rowHeight": 0.8},
              links=[runbook_link("SitroomSourceDown")]),
        Panel("timeseries", "Collect errors by reason", [Query(
            f"sum by (kind, reason) (rate(sitroom_source_errors_total{{{SRC}}}"
            "[$__rate_interval]))", "{{kind}} {{reason}}")], w=12, unit="ops",
              description="Failed polls/connections per second. Reasons are a small fixed set."),
        Panel("timeseries", "Poll duration p90 by kind", [Query(
            "histogram_quantile(0.9, sum by (kind, le) (rate("
            f"sitroom_source_collect_duration_seconds_bucket{{{SRC}}}[$__rate_interval])))",
            "{{kind}}")], w=12, unit="s"),
        Panel("timeseries", "Series per source", [Query(
            f"sitroom_source_series{{{SRC}}}", "{{source}}")], w=12, unit="short",
              description="Compare with daemon.limits.max_series_per_source."),
        Panel("timeseries", "Series dropped by the limit", [Query(
            f"sum by (source) (increase(sitroom_source_series_dropped_total{{{SRC}}}[1h]))",
            "{{source}}")], w=12, unit="short", links=[runbook_link("SitroomSeriesDropped")]),
        Panel("timeseries", "Reconnects and restarts", [Query(
            f"sum by (kind) (increase(sitroom_source_restarts_total{{{SRC}}}[1h]))",
            "{{kind}}")], w=12, unit="short"),
        Panel("timeseries", "Time since last success", [Query(
            f"time() - sitroom_source_last_success_timestamp_seconds{{{SRC}}}",
            "{{source}}")], w=12, unit="s"),
        row("Process"),
        Panel("timeseries", "Event-loop lag", [Query(
            "sitroom_event_loop_lag_seconds", "{{instance}}")], w=8, unit="s",
              thresholds=[(None, GREEN), (0.25, RED)],
              custom={"thresholdsStyle": {"mode": "line"}},
              links=[runbook_link("SitroomEventLoopLag")]),
        Panel("timeseries", "/metrics render time", [
            Query("sitroom_metrics_render_duration_seconds", "render {{instance}}"),
            Query('scrape_duration_seconds{job="sitroom"}', "scrape {{instance}}")], w=8,
              unit="s", links=[runbook_link("SitroomScrapeSlow")]),
        Panel("table", "Build", [Query("sitroom_build_info", instant=True, table=True)], w=8,
              transformations=[{"id": "organize", "options": {
                  "excludeByName": {"Time": True, "Value": True, "__name__": True}}}],
              links=[board_link("Situation Room", UID_OVERVIEW)]),
    ]
    return dashboard(
        UID_DAEMON, "sitroom: daemon health (SRE)",
        "Is sitroom itself healthy: scrapes, sources, reloads, cardinality, event loop.",
        items, tags=["sre"], time_from="now-3h",
        variables=[query_var("kind", "Kind", "label_values(sitroom_source_up, kind)"),
                   query_var("source", "Source",
                             'label_values(sitroom_source_up{kind=~"$kind"}, source)')],
    )
