"""Situation Room: the wall. One screen that says where the city needs attention now."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import common, geomap, stat, table, timeseries
from grafana_foundation_sdk.models.common import (
    BigValueGraphMode,
    BigValueTextMode,
    FrameGeometrySourceMode,
    LineInterpolation,
    StackingMode,
)
from grafana_foundation_sdk.models.dashboard import DynamicConfigValue
from grafana_foundation_sdk.models.geomap import MapCenterID, TooltipMode

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
    Item,
    basemap,
    board_link,
    dashboard,
    district_var,
    in_district,
    organize,
    prom,
    runbook_anchor,
    steps,
    thresholds_override,
    transform,
)

D = 'district=~"$district"'
FLOOD_MAP = ("sitroom_flood_alert_level * on(source, sensor) group_left(latitude, longitude, "
             f"location, river, district) sitroom_flood_sensor_info{{{D}}}")
PUMP_MAP = ("(sum by (source, station) (sitroom_pump_running) + 10 * max by (source, station) "
            "(sitroom_pump_fault)) * on(source, station) group_left(latitude, longitude, "
            f"station_name, district) sitroom_pump_station_info{{{D}}}")
CAMERA_MAP = ("sitroom_camera_up * on(source, camera) group_left(latitude, longitude, location, "
              f"district, owner_type) sitroom_camera_info{{{D}}}")
FLOOD_INFO = ("sitroom_flood_sensor_info", "source, sensor")
PUMP_INFO = ("sitroom_pump_station_info", "source, station")
CAM_INFO = ("sitroom_camera_info", "source, camera")
PROJECT_INFO = ("sitroom_project_info", "source, project")
PUSHED_ACTIVE = 'sitroom_events_active{team!="sre"} > 0'


def markers(name: str, ref: str, symbol: str) -> common.MapLayerOptions:
    """One query's rows as markers at their latitude/longitude, coloured by their value.

    The SDK types the layer (type, name, location, tooltip) but not a markers layer's style
    (`config`) nor its data filter: those are plain JSON here, as in Grafana's own schema.
    """
    return (common.MapLayerOptions().type("markers").name(name).tooltip(True)
            .filter_data({"id": "byRefId", "options": ref})
            .location(common.FrameGeometrySource().mode(FrameGeometrySourceMode.COORDS)
                      .latitude("latitude").longitude("longitude"))
            .config({"showLegend": True, "style": {
                "size": {"fixed": 9},
                "color": {"field": f"Value #{ref}", "fixed": GREY},
                "symbol": {"mode": "fixed", "fixed": f"img/icons/marker/{symbol}.svg"},
                "opacity": 0.9}}))


def city_map() -> geomap.Panel:
    """Sensors coloured by alert level, pump houses by state, cameras by up/down."""
    return (
        geomap.Panel().title("Kota Semarang").span(14).height(16)
        .description("Circles: flood sensors (green Normal, yellow Waspada, orange Siaga, red "
                     "Awas). Squares: pump houses (grey idle, blue pumping, red fault). "
                     "Triangles: cameras (green live, red down).")
        .with_target(prom(FLOOD_MAP, instant=True, table=True))
        .with_target(prom(PUMP_MAP, instant=True, table=True))
        .with_target(prom(CAMERA_MAP, instant=True, table=True))
        # MapViewConfig types lat/lon as int in this SDK release; Grafana stores floats.
        .view(geomap.MapViewConfig().id(MapCenterID.COORDS).lat(-6.99).lon(110.42)  # type: ignore[arg-type]
              .zoom(12))
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True)
                  .show_attribution(True))
        .basemap(basemap())
        .layers([markers("Flood sensors", "A", "circle"),
                 markers("Pump houses", "B", "square"),
                 markers("Cameras", "C", "triangle")])
        .tooltip(geomap.TooltipOptions().mode(TooltipMode.DETAILS))
        .with_transformation(transform("convertFieldType", conversions=[
            {"targetField": "latitude", "destinationType": "number"},
            {"targetField": "longitude", "destinationType": "number"}]))
        .overrides([
            thresholds_override("Value #A", [(None, GREEN), (1, YELLOW), (2, ORANGE),
                                             (3, RED)]),
            thresholds_override("Value #B", [(None, GREY), (1, BLUE), (10, RED)]),
            thresholds_override("Value #C", [(None, RED), (1, GREEN)])])
        .links([board_link("Flood and pumps", UID_FLOOD), board_link("Cameras", UID_CAMERAS)])
    )


def small(title: str, expr: str, w: int = 4) -> stat.Panel:
    """A stat of one instant query (the top line)."""
    return stat.Panel().title(title).with_target(prom(expr, instant=True)).span(w).height(4)


def build() -> dict[str, Any]:
    items: list[Item] = [
        small("Alerts firing", f'(count(ALERTS{{alertstate="firing", team!="sre"}}) or '
              f"vector(0)) + (sum({PUSHED_ACTIVE}) or vector(0))")
        .thresholds(steps((None, GREEN), (1, ORANGE)))
        .description("Firing alerts for the room: rule alerts and events the daemons push "
                     "(daemon alerts go to the SREs)."),
        small("Sensors at Siaga or Awas",
              f"count({in_district('sitroom_flood_alert_level', *FLOOD_INFO)} >= 2) "
              "or vector(0)")
        .thresholds(steps((None, GREEN), (1, ORANGE)))
        .links([board_link("Flood and pumps", UID_FLOOD)]),
        small("Pumps running", f"sum({in_district('sitroom_pump_running', *PUMP_INFO)})")
        .thresholds(steps((None, GREY), (1, BLUE)))
        .links([board_link("Flood and pumps", UID_FLOOD)]),
        small("Pumps in fault", f"sum({in_district('sitroom_pump_fault', *PUMP_INFO)})")
        .thresholds(steps((None, GREEN), (1, RED)))
        .links([board_link("Flood and pumps", UID_FLOOD)]),
        small("Cameras down", f"sum({in_district('1 - sitroom_camera_up', *CAM_INFO)})")
        .thresholds(steps((None, GREEN), (1, RED)))
        .links([board_link("Cameras and security", UID_CAMERAS)]),
        small("Sources down", "sum(1 - sitroom_source_up)")
        .thresholds(steps((None, GREEN), (1, YELLOW)))
        .description("Data sources sitroom cannot read (any kind).")
        .links([board_link("Daemon health", UID_DAEMON)]),
        city_map(),
        table.Panel().title("Firing alerts").span(10).height(16)
        .description("Firing alerts from Prometheus (ALERTS series) and events the daemons "
                     "push (one row per alert name and source kind; their rules hold back "
                     "while the push works). The runbook for each is the daemon's "
                     "/docs/runbooks#<alertname in lower case>.")
        .with_target(prom(f'ALERTS{{alertstate="firing", team!="sre"}} or {PUSHED_ACTIVE}',
                          instant=True, table=True))
        .with_transformation(organize(
            exclude=("Time", "Value", "__name__", "alertstate", "job", "instance"),
            order={"severity": 0, "team": 1, "alertname": 2}))
        .override_by_name("alertname", [DynamicConfigValue(id_val="links", value=[{
            "title": "Runbook", "targetBlank": True,
            # Grafana lower-cases nothing itself; the runbook page answers both spellings.
            "url": runbook_anchor("${__value.raw}")}])]),
        timeseries.Panel().title("Water levels").span(12).height(8).unit("lengthm")
        .with_target(prom(in_district("sitroom_flood_water_level_meters", *FLOOD_INFO),
                          "{{sensor}}"))
        .links([board_link("Flood and pumps", UID_FLOOD)]),
        timeseries.Panel().title("Pumps running by station").span(12).height(8).unit("short")
        .decimals(0)
        .with_target(prom(f"sum by (station) ({in_district('sitroom_pump_running', *PUMP_INFO)})",
                          "{{station}}"))
        .stacking(common.StackingConfig().mode(StackingMode.NORMAL)).fill_opacity(40)
        .line_interpolation(LineInterpolation.STEP_AFTER)
        .links([board_link("Flood and pumps", UID_FLOOD)]),
        small("Roads macet (jammed)", "count(sitroom_traffic_congestion_level >= 3) "
              "or vector(0)", w=8)
        .thresholds(steps((None, GREEN), (1, ORANGE)))
        .links([board_link("Lalu lintas", UID_TRAFFIC)]),
        small("Kontrak kritis", f"sum({in_district('sitroom_project_critical', *PROJECT_INFO)})",
              w=8)
        .thresholds(steps((None, GREEN), (1, RED)))
        .links([board_link("Pembangunan", UID_PROJECTS)]),
        stat.Panel().title("Top social topic").span(8).height(4)
        .with_target(prom("topk(1, max by (topic) (sitroom_social_topic_trend_score))",
                          "{{topic}}", instant=True))
        .thresholds(steps((None, GREEN), (2, YELLOW), (3, RED)))
        .text_mode(BigValueTextMode.VALUE_AND_NAME).graph_mode(BigValueGraphMode.NONE)
        .description("The topic with the highest burst score (2 = 1 in 100 chance).")
        .links([board_link("Sosial", UID_SOCIAL)]),
    ]
    return dashboard(
        UID_OVERVIEW, "Situation Room (Ruang Situasi) Kota Semarang",
        "The wall: where the city needs attention now. Click through to each domain board.",
        items, tags=["wall"], refresh="15s", time_from="now-3h",
        variables=[district_var()],
    )
