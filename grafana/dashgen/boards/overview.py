"""Situation Room: the wall. One screen that says where the city needs attention now."""

from __future__ import annotations

from typing import Any

from dashgen.builders import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    RED,
    UID_CAMERAS,
    UID_DAEMON,
    UID_FLOOD,
    UID_OVERVIEW,
    UID_PROJECTS,
    UID_SOCIAL,
    UID_TRAFFIC,
    YELLOW,
    Panel,
    Query,
    board_link,
    dashboard,
    district_var,
    in_district,
    steps,
)

D = 'district=~"$district"'
FLOOD_MAP = ("sitroom_flood_alert_level * on(source, sensor) group_left(latitude, longitude, "
             f"location, river, district) sitroom_flood_sensor_info{{{D}}}")
PUMP_MAP = ("(sum by (source, station) (sitroom_pump_running) + 10 * max by (source, station) "
            "(sitroom_pump_fault)) * on(source, station) group_left(latitude, longitude, "
            f"station_name, district) sitroom_pump_station_info{{{D}}}")
CAMERA_MAP = ("sitroom_camera_up * on(source, camera) group_left(latitude, longitude, location, "
              f"district, owner_type) sitroom_camera_info{{{D}}}")


def _layer(name: str, ref: str, symbol: str) -> dict[str, Any]:
    return {
        "type": "markers", "name": name, "tooltip": True,
        "filterData": {"id": "byRefId", "options": ref},
        "location": {"mode": "coords", "latitude": "latitude", "longitude": "longitude"},
        "config": {"showLegend": True, "style": {
            "size": {"fixed": 9},
            "color": {"field": f"Value #{ref}", "fixed": GREY},
            "symbol": {"mode": "fixed", "fixed": f"img/icons/marker/{symbol}.svg"},
            "opacity": 0.9}},
    }


def _colour_override(ref: str, pairs: list[tuple[float | None, str]]) -> dict[str, Any]:
    return {"matcher": {"id": "byName", "options": f"Value #{ref}"}, "properties": [
        {"id": "thresholds", "value": {"mode": "absolute", "steps": steps(*pairs)}},
        {"id": "color", "value": {"mode": "thresholds"}}]}


def city_map() -> Panel:
    """Sensors coloured by alert level, pump houses by state, cameras by up/down."""
    return Panel(
        "geomap", "Kota Semarang", [
            Query(FLOOD_MAP, instant=True, table=True),
            Query(PUMP_MAP, instant=True, table=True),
            Query(CAMERA_MAP, instant=True, table=True)],
        w=14, h=16,
        description="Circles: flood sensors (green Normal, yellow Waspada, orange Siaga, red "
                    "Awas). Squares: pump houses (grey idle, blue pumping, red fault). "
                    "Triangles: cameras (green live, red down).",
        options={
            "view": {"id": "coords", "lat": -6.99, "lon": 110.42, "zoom": 12},
            "controls": {"showZoom": True, "mouseWheelZoom": True, "showAttribution": True},
            "basemap": {"type": "default", "name": "Basemap"},
            "layers": [_layer("Flood sensors", "A", "circle"),
                       _layer("Pump houses", "B", "square"),
                       _layer("Cameras", "C", "triangle")],
            "tooltip": {"mode": "details"},
        },
        transformations=[{"id": "convertFieldType", "options": {"conversions": [
            {"targetField": "latitude", "destinationType": "number"},
            {"targetField": "longitude", "destinationType": "number"}]}}],
        overrides=[
            _colour_override("A", [(None, GREEN), (1, YELLOW), (2, ORANGE), (3, RED)]),
            _colour_override("B", [(None, GREY), (1, BLUE), (10, RED)]),
            _colour_override("C", [(None, RED), (1, GREEN)]),
        ],
        links=[board_link("Flood and pumps", UID_FLOOD), board_link("Cameras", UID_CAMERAS)],
    )


PUSHED_ACTIVE = 'sitroom_events_active{team!="sre"} > 0'


def build() -> dict[str, Any]:
    flood_info = ("sitroom_flood_sensor_info", "source, sensor")
    pump_info = ("sitroom_pump_station_info", "source, station")
    cam_info = ("sitroom_camera_info", "source, camera")
    project_info = ("sitroom_project_info", "source, project")
    items = [
        Panel("stat", "Alerts firing", [Query(
            f'(count(ALERTS{{alertstate="firing", team!="sre"}}) or vector(0)) + '
            f'(sum({PUSHED_ACTIVE}) or vector(0))', instant=True)],
              w=4, h=4, thresholds=[(None, GREEN), (1, ORANGE)],
              description="Firing alerts for the room: rule alerts and events the daemons "
              "push (daemon alerts go to the SREs)."),
        Panel("stat", "Sensors at Siaga or Awas", [Query(
            f"count({in_district('sitroom_flood_alert_level', *flood_info)} >= 2) "
            "or vector(0)", instant=True)], w=4, h=4,
              thresholds=[(None, GREEN), (1, ORANGE)],
              links=[board_link("Flood and pumps", UID_FLOOD)]),
        Panel("stat", "Pumps running", [Query(
            f"sum({in_district('sitroom_pump_running', *pump_info)})", instant=True)],
              w=4, h=4, thresholds=[(None, GREY), (1, BLUE)],
              links=[board_link("Flood and pumps", UID_FLOOD)]),
        Panel("stat", "Pumps in fault", [Query(
            f"sum({in_district('sitroom_pump_fault', *pump_info)})", instant=True)],
              w=4, h=4, thresholds=[(None, GREEN), (1, RED)],
              links=[board_link("Flood and pumps", UID_FLOOD)]),
        Panel("stat", "Cameras down", [Query(
            f"sum({in_district('1 - sitroom_camera_up', *cam_info)})", instant=True)],
              w=4, h=4, thresholds=[(None, GREEN), (1, RED)],
              links=[board_link("Cameras and security", UID_CAMERAS)]),
        Panel("stat", "Sources down", [Query("sum(1 - sitroom_source_up)", instant=True)],
              w=4, h=4, thresholds=[(None, GREEN), (1, YELLOW)],
              description="Data sources sitroom cannot read (any kind).",
              links=[board_link("Daemon health", UID_DAEMON)]),
        city_map(),
        Panel("table", "Firing alerts", [Query(
            f'ALERTS{{alertstate="firing", team!="sre"}} or {PUSHED_ACTIVE}', instant=True,
            table=True)],
              w=10, h=16, description="Firing alerts from Prometheus (ALERTS series) and "
              "events the daemons push (one row per alert name and source kind; their "
              "rules hold back while the push works). The runbook for each is "
              "docs/runbooks.md#<alertname in lower case>.",
              transformations=[{"id": "organize", "options": {
                  "excludeByName": {"Time": True, "Value": True, "__name__": True,
                                    "alertstate": True, "job": True, "instance": True},
                  "indexByName": {"severity": 0, "team": 1, "alertname": 2}}}],
              overrides=[{"matcher": {"id": "byName", "options": "alertname"},
                          "properties": [{"id": "links", "value": [{
                              "title": "Runbook", "targetBlank": True,
                              "url": "${runbooks}#${__value.raw}"}]}]}]),
        Panel("timeseries", "Water levels", [Query(
            in_district("sitroom_flood_water_level_meters", *flood_info), "{{sensor}}")],
              w=12, h=8, unit="lengthm", links=[board_link("Flood and pumps", UID_FLOOD)]),
        Panel("timeseries", "Pumps running by station", [Query(
            f"sum by (station) ({in_district('sitroom_pump_running', *pump_info)})",
            "{{station}}")], w=12, h=8, unit="short", decimals=0,
              custom={"stacking": {"mode": "normal"}, "fillOpacity": 40, "lineInterpolation":
                      "stepAfter"}, links=[board_link("Flood and pumps", UID_FLOOD)]),
        Panel("stat", "Roads macet (jammed)", [Query(
            "count(sitroom_traffic_congestion_level >= 3) or vector(0)", instant=True)],
              w=8, h=4, thresholds=[(None, GREEN), (1, ORANGE)],
              links=[board_link("Lalu lintas", UID_TRAFFIC)]),
        Panel("stat", "Kontrak kritis", [Query(
            f"sum({in_district('sitroom_project_critical', *project_info)})",
            instant=True)], w=8, h=4, thresholds=[(None, GREEN), (1, RED)],
              links=[board_link("Pembangunan", UID_PROJECTS)]),
        Panel("stat", "Top social topic", [Query(
            "topk(1, max by (topic) (sitroom_social_topic_trend_score))", "{{topic}}",
            instant=True)], w=8, h=4, thresholds=[(None, GREEN), (2, YELLOW), (3, RED)],
              options={"textMode": "value_and_name", "graphMode": "none"},
              description="The topic with the highest burst score (2 = 1 in 100 chance).",
              links=[board_link("Sosial", UID_SOCIAL)]),
    ]
    return dashboard(
        UID_OVERVIEW, "Situation Room (Ruang Situasi) Kota Semarang",
        "The wall: where the city needs attention now. Click through to each domain board.",
        items, tags=["wall"], refresh="15s", time_from="now-3h",
        variables=[district_var()],
    )
