"""Daemon health (SRE): is sitroom scraping, collecting, reloading and keeping up?"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import common, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models.common import GraphThresholdsStyleMode, VisibilityMode

from dashgen.builders import (
    GREEN,
    RED,
    UID_DAEMON,
    UID_OVERVIEW,
    YELLOW,
    Item,
    board_link,
    dashboard,
    organize,
    prom,
    query_var,
    runbook_link,
    steps,
    transform,
    value_text,
)

SRC = 'source=~"$source", kind=~"$kind"'
LINE = common.GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.LINE)


def small(title: str, expr: str) -> stat.Panel:
    """A 4x4 stat of one instant query (the replicas row)."""
    return stat.Panel().title(title).with_target(prom(expr, instant=True)).span(4).height(4)


def build() -> dict[str, Any]:
    items: list[Item] = [
        Row("Replicas"),
        small("Replicas up", 'sum(up{job="sitroom"})')
        .description("Daemon replicas Prometheus scrapes successfully.")
        .thresholds(steps((None, RED), (1, GREEN))).links([runbook_link("SitroomDown")]),
        small("Sources down", f"sum(1 - sitroom_source_up{{{SRC}}})")
        .thresholds(steps((None, GREEN), (1, YELLOW), (5, RED)))
        .links([runbook_link("SitroomSourceDown")]),
        small("Config reload", "min(sitroom_config_last_reload_successful)")
        .mappings([value_text({0: ("FAILED", RED), 1: ("OK", GREEN)})])
        .thresholds(steps((None, RED), (1, GREEN)))
        .links([runbook_link("SitroomConfigReloadFailed")]),
        small("Invalid sources skipped", "sum(sitroom_config_invalid_sources)")
        .thresholds(steps((None, GREEN), (1, YELLOW)))
        .links([runbook_link("SitroomConfigInvalidSources")]),
        small("Plugins not loaded", "count(sitroom_plugin_loaded == 0) or vector(0)")
        .thresholds(steps((None, GREEN), (1, RED)))
        .links([runbook_link("SitroomPluginLoadFailed")]),
        small("Last config load",
              "time() - max(sitroom_config_last_reload_success_timestamp_seconds)")
        .unit("s").description("Age of the running configuration."),
        Row("Sources"),
        table.Panel().title("Sources by kind").span(8).height(9)
        .with_target(prom(f"sum by (kind) (sitroom_source_up{{{SRC}}})", "up", instant=True,
                          table=True))
        .with_target(prom(f"count by (kind) (sitroom_source_up{{{SRC}}})", "configured",
                          instant=True, table=True))
        .with_transformation(transform("merge"))
        .with_transformation(organize(exclude=("Time",), rename={
            "Value #A": "up", "Value #B": "configured"}))
        .links([runbook_link("SitroomManySourcesDown")]),
        statetimeline.Panel().title("Source up").span(16).height(9)
        .with_target(prom(f"sitroom_source_up{{{SRC}}}", "{{source}}"))
        .thresholds(steps((None, RED), (1, GREEN)))
        .mappings([value_text({0: ("down", RED), 1: ("up", GREEN)})])
        .show_value(VisibilityMode.NEVER).merge_values(True).row_height(0.8)
        .links([runbook_link("SitroomSourceDown")]),
        timeseries.Panel().title("Collect errors by reason").span(12).height(8).unit("ops")
        .description("Failed polls/connections per second. Reasons are a small fixed set.")
        .with_target(prom(f"sum by (kind, reason) (rate(sitroom_source_errors_total{{{SRC}}}"
                          "[$__rate_interval]))", "{{kind}} {{reason}}")),
        timeseries.Panel().title("Poll duration p90 by kind").span(12).height(8).unit("s")
        .with_target(prom("histogram_quantile(0.9, sum by (kind, le) (rate("
                          f"sitroom_source_collect_duration_seconds_bucket{{{SRC}}}"
                          "[$__rate_interval])))", "{{kind}}")),
        timeseries.Panel().title("Series per source").span(12).height(8).unit("short")
        .description("Compare with daemon.limits.max_series_per_source.")
        .with_target(prom(f"sitroom_source_series{{{SRC}}}", "{{source}}")),
        timeseries.Panel().title("Series dropped by the limit").span(12).height(8)
        .unit("short")
        .with_target(prom("sum by (source) (increase("
                          f"sitroom_source_series_dropped_total{{{SRC}}}[1h]))", "{{source}}"))
        .links([runbook_link("SitroomSeriesDropped")]),
        timeseries.Panel().title("Reconnects and restarts").span(12).height(8).unit("short")
        .with_target(prom(f"sum by (kind) (increase(sitroom_source_restarts_total{{{SRC}}}"
                          "[1h]))", "{{kind}}")),
        timeseries.Panel().title("Time since last success").span(12).height(8).unit("s")
        .with_target(prom(f"time() - sitroom_source_last_success_timestamp_seconds{{{SRC}}}",
                          "{{source}}")),
        Row("Process"),
        timeseries.Panel().title("Event-loop lag").span(8).height(8).unit("s")
        .with_target(prom("sitroom_event_loop_lag_seconds", "{{instance}}"))
        .thresholds(steps((None, GREEN), (0.25, RED))).thresholds_style(LINE)
        .links([runbook_link("SitroomEventLoopLag")]),
        timeseries.Panel().title("/metrics render time").span(8).height(8).unit("s")
        .with_target(prom("sitroom_metrics_render_duration_seconds", "render {{instance}}"))
        .with_target(prom('scrape_duration_seconds{job="sitroom"}', "scrape {{instance}}"))
        .links([runbook_link("SitroomScrapeSlow")]),
        table.Panel().title("Build").span(8).height(8)
        .with_target(prom("sitroom_build_info", instant=True, table=True))
        .with_transformation(organize(exclude=("Time", "Value", "__name__")))
        .links([board_link("Situation Room", UID_OVERVIEW)]),
    ]
    return dashboard(
        UID_DAEMON, "sitroom: daemon health (SRE)",
        "Is sitroom itself healthy: scrapes, sources, reloads, cardinality, event loop.",
        items, tags=["sre"], time_from="now-3h",
        variables=[query_var("kind", "Kind", "label_values(sitroom_source_up, kind)"),
                   query_var("source", "Source",
                             'label_values(sitroom_source_up{kind=~"$kind"}, source)')],
    )
