"""Lalu lintas (traffic): road speeds from the traffic API and lane occupancy from cameras."""

from __future__ import annotations

from typing import Any

from dashgen.builders import (
    GREEN,
    ORANGE,
    RED,
    UID_CAMERAS,
    UID_TRAFFIC,
    YELLOW,
    Panel,
    Query,
    board_link,
    dashboard,
    district_var,
    in_district,
    row,
    value_text,
)

# Names declared by the traffic source in conf.d/61-traffic.yaml (generic http_json kind).
SEG_INFO = "sitroom_traffic_segment_info"
LEVELS = value_text({0: ("lancar", GREEN), 1: ("ramai", YELLOW), 2: ("padat", ORANGE),
                     3: ("macet", RED)})


def seg(expr: str) -> str:
    return f"{expr} * on(source, segment) group_left(name) {SEG_INFO}{{district=~\"$district\"}}"


def build() -> dict[str, Any]:
    items = [
        row("Road segments (traffic API)"),
        Panel("stat", "Congestion by segment", [Query(
            seg("sitroom_traffic_congestion_level"), "{{name}}", instant=True)], w=24, h=5,
              mappings=[LEVELS], thresholds=[(None, GREEN), (1, YELLOW), (2, ORANGE), (3, RED)],
              options={"colorMode": "background", "graphMode": "none",
                       "textMode": "value_and_name"}),
        Panel("timeseries", "Speed", [Query(
            seg("sitroom_traffic_speed_meters_per_second") + " * 3.6", "{{name}}")], w=12,
              unit="velocitykmh"),
        Panel("timeseries", "Speed against free flow", [Query(
            seg("sitroom_traffic_speed_meters_per_second") +
            " / on(source, segment) sitroom_traffic_free_flow_speed_meters_per_second",
            "{{name}}")], w=12, unit="percentunit", min=0, max=1.2,
              thresholds=[(None, RED), (0.4, ORANGE), (0.7, GREEN)],
              custom={"thresholdsStyle": {"mode": "line"}},
              description="1 = free flow; under 0.4 is a jam."),
        row("Camera lanes"),
        Panel("timeseries", "Lane occupancy (cameras)", [Query(
            in_district("sitroom_camera_lane_occupancy_ratio", "sitroom_camera_info",
                        "source, camera"), "{{camera}} {{zone}}")], w=12, unit="percentunit",
              min=0, max=1),
        Panel("stat", "Lane congestion (cameras)", [Query(
            in_district("sitroom_camera_congestion_level", "sitroom_camera_info",
                        "source, camera"), "{{camera}} {{zone}}", instant=True)], w=12,
              mappings=[value_text({0: ("free", GREEN), 1: ("busy", YELLOW),
                                    2: ("dense", ORANGE), 3: ("jammed", RED)})],
              thresholds=[(None, GREEN), (1, YELLOW), (2, ORANGE), (3, RED)],
              options={"colorMode": "background", "graphMode": "none",
                       "textMode": "value_and_name"},
              links=[board_link("Cameras", UID_CAMERAS)]),
    ]
    return dashboard(
        UID_TRAFFIC, "sitroom: Lalu lintas (traffic)",
        "Road speeds and congestion from the traffic API, lane occupancy from cameras.",
        items, tags=["traffic"], variables=[district_var()],
    )
