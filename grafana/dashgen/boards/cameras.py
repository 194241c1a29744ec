"""Cameras and security: is every camera live, and what are the zones seeing?"""

from __future__ import annotations

from typing import Any

from dashgen.builders import (
    GREEN,
    ORANGE,
    RED,
    UID_CAMERAS,
    UID_OVERVIEW,
    YELLOW,
    Panel,
    Query,
    board_link,
    dashboard,
    district_var,
    in_district,
    row,
    runbook_link,
    source_var,
)
from dashgen.builders import SOURCE_MATCH as S

INFO = "sitroom_camera_info"


def cam(expr: str) -> str:
    return in_district(expr, INFO, "source, camera")


def build() -> dict[str, Any]:
    items = [
        row("Health"),
        Panel("stat", "Cameras live", [Query(
            f"sum({cam(f'sitroom_camera_up{{{S}}}')})", instant=True)], w=4, h=4,
              thresholds=[(None, "text")]),
        Panel("stat", "Cameras down", [Query(
            f"sum({cam(f'1 - sitroom_camera_up{{{S}}}')})", instant=True)], w=4, h=4,
              thresholds=[(None, GREEN), (1, RED)], links=[runbook_link("CameraDown")]),
        Panel("stat", "Tamper events active", [Query(
            "sum(" + cam('sitroom_camera_event_active{rule=~"tamper_.+", ' + S + "}") + ")",
            instant=True)], w=4, h=4, thresholds=[(None, GREEN), (1, RED)],
              links=[runbook_link("CameraTamper")]),
        Panel("stat", "Frozen pictures", [Query(
            "sum(" + cam('sitroom_camera_event_active{rule="frozen", ' + S + "}") + ")",
            instant=True)], w=4, h=4, thresholds=[(None, GREEN), (1, ORANGE)],
              links=[runbook_link("CameraFrozen")]),
        Panel("stat", "Zone events (24 h)", [Query(
            "sum(" + cam('increase(sitroom_camera_events_total{zone!="", ' + S + "}[24h])") + ")",
            instant=True)], w=4, h=4, decimals=0),
        Panel("stat", "People in view", [Query(
            f"sum({cam(f'sitroom_camera_people{{{S}}}')})", instant=True)], w=4, h=4),
        Panel("timeseries", "Frame age", [Query(
            cam(f"sitroom_camera_frame_age_seconds{{{S}}}"), "{{camera}}")], w=12, unit="s",
              thresholds=[(None, GREEN), (10, YELLOW), (60, RED)],
              custom={"thresholdsStyle": {"mode": "line"}}, links=[runbook_link("CameraDown")]),
        Panel("timeseries", "Stream frame rate", [Query(
            cam(f"sitroom_camera_stream_frames_per_second{{{S}}}"), "{{camera}}")],
              w=12, unit="fps"),
        Panel("timeseries", "Reconnects, decode errors and lost frames (per hour)", [
            Query(cam(f"increase(sitroom_camera_reconnects_total{{{S}}}[1h])"),
                  "reconnects {{camera}}"),
            Query(cam(f"increase(sitroom_camera_decode_errors_total{{{S}}}[1h])"),
                  "decode errors {{camera}}"),
            Query(cam(f"increase(sitroom_camera_frames_lost_total{{{S}}}[1h])"),
                  "lost frames {{camera}}")], w=12, unit="short"),
        Panel("timeseries", "Analysis CPU per camera", [Query(
            cam(f"rate(sitroom_camera_cpu_seconds_total{{{S}}}[$__rate_interval])"),
            "{{camera}}")], w=12, unit="percentunit",
              description="Share of one core spent decoding and analysing each camera."),
        row("Picture quality and tamper"),
        Panel("timeseries", "Scene change against reference", [Query(
            cam(f"sitroom_camera_scene_change_ratio{{{S}}}"), "{{camera}}")], w=8,
              unit="percentunit", min=0, max=1, links=[runbook_link("CameraTamper")]),
        Panel("timeseries", "Sharpness (focus)", [Query(
            cam(f"sitroom_camera_sharpness{{{S}}}"), "{{camera}}")], w=8),
        Panel("timeseries", "Brightness", [Query(
            cam(f"sitroom_camera_brightness_ratio{{{S}}}"), "{{camera}}")], w=8,
              unit="percentunit", min=0, max=1),
        row("Zones and events"),
        Panel("table", "Active events", [Query(
            cam(f"sitroom_camera_event_active{{{S}}}"), instant=True, table=True)], w=12, h=9,
              description="Every (camera, zone, rule) with its state: 1 while it holds.",
              thresholds=[(None, GREEN), (1, RED)],
              transformations=[{"id": "organize", "options": {
                  "excludeByName": {"Time": True, "__name__": True, "job": True,
                                    "instance": True}}}],
              links=[runbook_link("CameraSuspiciousActivity"), runbook_link("CameraLoitering")]),
        Panel("timeseries", "Events per hour by rule", [Query(
            f"sum by (rule) ({cam(f'increase(sitroom_camera_events_total{{{S}}}[1h])')})",
            "{{rule}}")], w=12, h=9, unit="short"),
        Panel("timeseries", "Motion in zones", [Query(
            cam(f"sitroom_camera_zone_motion_ratio{{{S}}}"), "{{camera}} {{zone}}")], w=12,
              unit="percentunit", min=0, max=1),
        Panel("timeseries", "Presence duration in zones", [Query(
            cam(f"sitroom_camera_zone_presence_duration_seconds{{{S}}}"),
            "{{camera}} {{zone}}")], w=12, unit="s", links=[runbook_link("CameraLoitering"),
                                                            board_link("Situation Room",
                                                                       UID_OVERVIEW)]),
        row("Objects and lines"),
        Panel("timeseries", "Objects in view by class", [Query(
            "sum by (class) (" + cam('sitroom_camera_objects{zone="", ' + S + "}") + ")",
            "{{class}}")], w=12, unit="short",
              description="Objects the detector sees now (whole picture), summed over cameras."),
        Panel("timeseries", "Line crossings per minute", [Query(
            "sum by (camera, line, class, direction) ("
            + cam(f"rate(sitroom_camera_line_crossings_total{{{S}}}[$__rate_interval])")
            + ") * 60", "{{camera}} {{line}} {{class}} {{direction}}")], w=12, unit="short",
              description="Tracked objects crossing the configured lines (vehicles per minute "
                          "per lane for traffic)."),
    ]
    return dashboard(
        UID_CAMERAS, "sitroom: kamera dan keamanan (cameras and security)",
        "Camera health, picture tamper and the zone rules (suspicious activity, loitering).",
        items, tags=["cameras", "security"],
        variables=[district_var(), source_var("camera")],
    )
