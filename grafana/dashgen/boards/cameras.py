"""Cameras and security: is every camera live, and what are the zones seeing?"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import common, stat, table, timeseries
from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models.common import GraphThresholdsStyleMode

from dashgen.builders import (
    GREEN,
    ORANGE,
    RED,
    UID_CAMERAS,
    UID_OVERVIEW,
    YELLOW,
    Item,
    board_link,
    dashboard,
    district_var,
    in_district,
    organize,
    prom,
    runbook_link,
    source_var,
    steps,
)
from dashgen.builders import SOURCE_MATCH as S

INFO = "sitroom_camera_info"
LINE = common.GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.LINE)


def cam(expr: str) -> str:
    return in_district(expr, INFO, "source, camera")


def count(title: str, expr: str) -> stat.Panel:
    """A 4x4 stat of one instant query (the health row)."""
    return stat.Panel().title(title).with_target(prom(expr, instant=True)).span(4).height(4)


def build() -> dict[str, Any]:
    items: list[Item] = [
        Row("Health"),
        count("Cameras live", f"sum({cam(f'sitroom_camera_up{{{S}}}')})")
        .thresholds(steps((None, "text"))),
        count("Cameras down", f"sum({cam(f'1 - sitroom_camera_up{{{S}}}')})")
        .thresholds(steps((None, GREEN), (1, RED))).links([runbook_link("CameraDown")]),
        count("Tamper events active",
              "sum(" + cam('sitroom_camera_event_active{rule=~"tamper_.+", ' + S + "}") + ")")
        .thresholds(steps((None, GREEN), (1, RED))).links([runbook_link("CameraTamper")]),
        count("Frozen pictures",
              "sum(" + cam('sitroom_camera_event_active{rule="frozen", ' + S + "}") + ")")
        .thresholds(steps((None, GREEN), (1, ORANGE))).links([runbook_link("CameraFrozen")]),
        count("Zone events (24 h)",
              "sum(" + cam('increase(sitroom_camera_events_total{zone!="", ' + S + "}[24h])")
              + ")").decimals(0),
        count("People in view", f"sum({cam(f'sitroom_camera_people{{{S}}}')})"),
        timeseries.Panel().title("Frame age").span(12).height(8).unit("s")
        .with_target(prom(cam(f"sitroom_camera_frame_age_seconds{{{S}}}"), "{{camera}}"))
        .thresholds(steps((None, GREEN), (10, YELLOW), (60, RED))).thresholds_style(LINE)
        .links([runbook_link("CameraDown")]),
        timeseries.Panel().title("Stream frame rate").span(12).height(8).unit("fps")
        .with_target(prom(cam(f"sitroom_camera_stream_frames_per_second{{{S}}}"),
                          "{{camera}}")),
        timeseries.Panel().title("Reconnects, decode errors and lost frames (per hour)")
        .span(12).height(8).unit("short")
        .with_target(prom(cam(f"increase(sitroom_camera_reconnects_total{{{S}}}[1h])"),
                          "reconnects {{camera}}"))
        .with_target(prom(cam(f"increase(sitroom_camera_decode_errors_total{{{S}}}[1h])"),
                          "decode errors {{camera}}"))
        .with_target(prom(cam(f"increase(sitroom_camera_frames_lost_total{{{S}}}[1h])"),
                          "lost frames {{camera}}")),
        timeseries.Panel().title("Analysis CPU per camera").span(12).height(8)
        .unit("percentunit")
        .description("Share of one core spent decoding and analysing each camera.")
        .with_target(prom(cam(f"rate(sitroom_camera_cpu_seconds_total{{{S}}}"
                              "[$__rate_interval])"), "{{camera}}")),
        Row("Picture quality and tamper"),
        timeseries.Panel().title("Scene change against reference").span(8).height(8)
        .unit("percentunit").min(0).max(1)
        .with_target(prom(cam(f"sitroom_camera_scene_change_ratio{{{S}}}"), "{{camera}}"))
        .links([runbook_link("CameraTamper")]),
        timeseries.Panel().title("Sharpness (focus)").span(8).height(8)
        .with_target(prom(cam(f"sitroom_camera_sharpness{{{S}}}"), "{{camera}}")),
        timeseries.Panel().title("Brightness").span(8).height(8).unit("percentunit")
        .min(0).max(1)
        .with_target(prom(cam(f"sitroom_camera_brightness_ratio{{{S}}}"), "{{camera}}")),
        Row("Zones and events"),
        table.Panel().title("Active events").span(12).height(9)
        .description("Every (camera, zone, rule) with its state: 1 while it holds.")
        .with_target(prom(cam(f"sitroom_camera_event_active{{{S}}}"), instant=True,
                          table=True))
        .thresholds(steps((None, GREEN), (1, RED)))
        .with_transformation(organize(exclude=("Time", "__name__", "job", "instance")))
        .links([runbook_link("CameraSuspiciousActivity"), runbook_link("CameraLoitering"),
                runbook_link("CameraLineCrossing")]),
        timeseries.Panel().title("Events per hour by rule").span(12).height(9).unit("short")
        .with_target(prom("sum by (rule) ("
                          + cam(f"increase(sitroom_camera_events_total{{{S}}}[1h])") + ")",
                          "{{rule}}")),
        timeseries.Panel().title("Motion in zones").span(12).height(8).unit("percentunit")
        .min(0).max(1)
        .with_target(prom(cam(f"sitroom_camera_zone_motion_ratio{{{S}}}"),
                          "{{camera}} {{zone}}")),
        timeseries.Panel().title("Presence duration in zones").span(12).height(8).unit("s")
        .with_target(prom(cam(f"sitroom_camera_zone_presence_duration_seconds{{{S}}}"),
                          "{{camera}} {{zone}}"))
        .links([runbook_link("CameraLoitering"), board_link("Situation Room", UID_OVERVIEW)]),
        Row("Objects and lines"),
        timeseries.Panel().title("Objects in view by class").span(12).height(8).unit("short")
        .description("Objects the detector sees now (whole picture), summed over cameras.")
        .with_target(prom("sum by (class) ("
                          + cam('sitroom_camera_objects{zone="", ' + S + "}") + ")",
                          "{{class}}")),
        timeseries.Panel().title("Line crossings per minute").span(12).height(8).unit("short")
        .description("Tracked objects crossing the configured lines (vehicles per minute per "
                     "lane for traffic).")
        .with_target(prom("sum by (camera, line, class, direction) ("
                          + cam("rate(sitroom_camera_line_crossings_total"
                                f"{{{S}}}[$__rate_interval])")
                          + ") * 60", "{{camera}} {{line}} {{class}} {{direction}}"))
        .links([runbook_link("CameraLineCrossing")]),
    ]
    return dashboard(
        UID_CAMERAS, "sitroom: kamera dan keamanan (cameras and security)",
        "Camera health, picture tamper, the zone rules (suspicious activity, loitering) and "
        "line crossings.",
        items, tags=["cameras", "security"],
        variables=[district_var(), source_var("camera")],
    )
