"""Lalu lintas (traffic): road speeds from the traffic API and lane occupancy from cameras."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import common, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models.common import (
    BigValueColorMode,
    BigValueGraphMode,
    BigValueTextMode,
    GraphThresholdsStyleMode,
)

from dashgen.builders import (
    GREEN,
    LEVEL_STEPS,
    ORANGE,
    RED,
    UID_CAMERAS,
    UID_TRAFFIC,
    YELLOW,
    Item,
    board_link,
    dashboard,
    district_var,
    in_district,
    prom,
    steps,
    value_text,
)

# Names declared by the traffic source in conf.d/61-traffic.yaml (generic http_json kind).
SEG_INFO = "sitroom_traffic_segment_info"
LEVELS = value_text({0: ("lancar", GREEN), 1: ("ramai", YELLOW), 2: ("padat", ORANGE),
                     3: ("macet", RED)})


def seg(expr: str) -> str:
    return f"{expr} * on(source, segment) group_left(name) {SEG_INFO}{{district=~\"$district\"}}"


def levels(title: str, expr: str, legend: str) -> stat.Panel:
    """Congestion levels as coloured tiles, one per segment or lane."""
    return (stat.Panel().title(title).with_target(prom(expr, legend, instant=True))
            .thresholds(steps(*LEVEL_STEPS)).color_mode(BigValueColorMode.BACKGROUND)
            .graph_mode(BigValueGraphMode.NONE).text_mode(BigValueTextMode.VALUE_AND_NAME))


def build() -> dict[str, Any]:
    items: list[Item] = [
        Row("Road segments (traffic API)"),
        levels("Congestion by segment", seg("sitroom_traffic_congestion_level"), "{{name}}")
        .span(24).height(5).mappings([LEVELS]),
        timeseries.Panel().title("Speed").span(12).height(8).unit("velocitykmh")
        .with_target(prom(seg("sitroom_traffic_speed_meters_per_second") + " * 3.6",
                          "{{name}}")),
        timeseries.Panel().title("Speed against free flow").span(12).height(8)
        .unit("percentunit").min(0).max(1.2)
        .description("1 = free flow; under 0.4 is a jam.")
        .with_target(prom(seg("sitroom_traffic_speed_meters_per_second")
                          + " / on(source, segment) "
                          "sitroom_traffic_free_flow_speed_meters_per_second", "{{name}}"))
        .thresholds(steps((None, RED), (0.4, ORANGE), (0.7, GREEN)))
        .thresholds_style(common.GraphThresholdsStyleConfig()
                          .mode(GraphThresholdsStyleMode.LINE)),
        Row("Camera lanes"),
        timeseries.Panel().title("Lane occupancy (cameras)").span(12).height(8)
        .unit("percentunit").min(0).max(1)
        .with_target(prom(in_district("sitroom_camera_lane_occupancy_ratio",
                                      "sitroom_camera_info", "source, camera"),
                          "{{camera}} {{zone}}")),
        levels("Lane congestion (cameras)",
               in_district("sitroom_camera_congestion_level", "sitroom_camera_info",
                           "source, camera"), "{{camera}} {{zone}}")
        .span(12).height(8)
        .mappings([value_text({0: ("free", GREEN), 1: ("busy", YELLOW),
                               2: ("dense", ORANGE), 3: ("jammed", RED)})])
        .links([board_link("Cameras", UID_CAMERAS)]),
    ]
    return dashboard(
        UID_TRAFFIC, "sitroom: Lalu lintas (traffic)",
        "Road speeds and congestion from the traffic API, lane occupancy from cameras.",
        items, tags=["traffic"], variables=[district_var()],
    )
