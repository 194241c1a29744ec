"""Flood and pumps: the water side of the room (BPBD and DPU look at the same board)."""

from __future__ import annotations

from typing import Any

from dashgen.builders import (
    FLOOD_LEVELS,
    GREEN,
    ON_OFF,
    ORANGE,
    RED,
    UID_FLOOD,
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

FLOOD_INFO = "sitroom_flood_sensor_info"
PUMP_INFO = "sitroom_pump_station_info"


def flood(expr: str) -> str:
    return in_district(expr, FLOOD_INFO, "source, sensor")


def pumps(expr: str) -> str:
    return in_district(expr, PUMP_INFO, "source, station")


FLOOD_STATES = {"type": "value", "options": {
    "1": {"text": "1 depth unknown", "color": YELLOW, "index": 0},
    "2": {"text": "2 10-70 cm", "color": YELLOW, "index": 1},
    "3": {"text": "3 71-150 cm", "color": ORANGE, "index": 2},
    "4": {"text": "4 over 150 cm", "color": RED, "index": 3}}}


def warnings() -> list[Panel | dict[str, Any]]:
    """BMKG nowcasts and PetaBencana flood states by kecamatan, and the latest earthquake."""
    return [
        row("Official warnings: BMKG and PetaBencana (BPBD)"),
        Panel("table", "Active BMKG warnings by kecamatan", [Query(
            f'sum by (area, event, severity, urgency) (sitroom_cap_alerts_active{{{S}, '
            f'area!="outside"}})', instant=True, table=True)], w=10, h=8,
              description="CAP alerts in force (effective, not expired, not cancelled); "
              "area `semarang` = the whole city without a named kecamatan.",
              links=[runbook_link("BmkgWeatherWarningOverSemarang")]),
        Panel("stat", "PetaBencana flood state by kecamatan", [Query(
            f"max by (area) (sitroom_cap_flood_state{{{S}}})", "{{area}}", instant=True)],
              w=8, h=8, mappings=[FLOOD_STATES],
              thresholds=[(None, YELLOW), (3, ORANGE), (4, RED)],
              options={"colorMode": "background", "graphMode": "none",
                       "textMode": "value_and_name", "reduceOptions": {"calcs": ["lastNotNull"]}},
              links=[runbook_link("CitizenFloodReport"), runbook_link("CitizenDeepFloodReport")]),
        Panel("stat", "Latest earthquake (BMKG)", [
            Query(f"max(sitroom_earthquake_latest_magnitude{{{S}}})", "magnitude",
                  instant=True),
            Query(f"min(sitroom_earthquake_latest_distance_meters{{{S}}}) / 1000",
                  "km from Simpang Lima", instant=True),
            Query(f"max(sitroom_earthquake_latest_city_felt_mmi{{{S}}})", "MMI in Semarang",
                  instant=True),
            Query(f"max(sitroom_earthquake_latest_tsunami_potential{{{S}}})",
                  "tsunami potential", instant=True)], w=6, h=8,
              options={"colorMode": "none", "graphMode": "none",
                       "textMode": "value_and_name", "orientation": "vertical"},
              links=[runbook_link("EarthquakeFeltNearSemarang"),
                     runbook_link("EarthquakeTsunamiPotential")]),
    ]


def build() -> dict[str, Any]:
    items = [
        *warnings(),
        row("Rivers, drains and tide (BPBD)"),
        Panel("stat", "Alert level by sensor", [Query(
            flood(f"sitroom_flood_alert_level{{{S}}}"), "{{sensor}}", instant=True)],
              w=24, h=5, mappings=[FLOOD_LEVELS],
              thresholds=[(None, GREEN), (1, YELLOW), (2, ORANGE), (3, RED)],
              options={"colorMode": "background", "graphMode": "none", "textMode":
                       "value_and_name", "reduceOptions": {"calcs": ["lastNotNull"]}},
              links=[runbook_link("FloodLevelSiaga"), runbook_link("FloodLevelAwas")]),
        Panel("timeseries", "Water level", [Query(
            flood(f"sitroom_flood_water_level_meters{{{S}}}"), "{{sensor}}")], w=12, h=9,
              unit="lengthm", description="Water or sea level above each sensor's datum; the "
              "thresholds of each sensor are in the table beside it.",
              links=[runbook_link("FloodLevelWaspada")]),
        Panel("table", "Thresholds (m)", [Query(
            flood(f"sitroom_flood_threshold_meters{{{S}}}"), instant=True, table=True)],
              w=12, h=9, unit="lengthm",
              transformations=[{"id": "groupingToMatrix", "options": {
                  "columnField": "level", "rowField": "sensor", "valueField": "Value"}}]),
        Panel("timeseries", "Rate of rise", [Query(
            flood(f"sitroom_flood_water_level_rate_of_rise_meters_per_second{{{S}}}") +
            " * 3600", "{{sensor}}")], w=8, unit="m/h",
              description="Robust line fit over the source's rate_window, in m/h.",
              thresholds=[(None, GREEN), (0.5, RED)],
              custom={"thresholdsStyle": {"mode": "line"}},
              links=[runbook_link("FloodWaterRisingFast")]),
        Panel("timeseries", "Rain rate", [Query(
            flood(f"sitroom_flood_rain_rate_meters_per_second{{{S}}}") + " * 3.6e6",
            "{{sensor}}")], w=8, unit="mm/h", description="Rain intensity in mm/h."),
        Panel("timeseries", "Rain in the last hour", [Query(
            flood(f"increase(sitroom_flood_rain_meters_total{{{S}}}[1h])") + " * 1000",
            "{{sensor}}")], w=8, unit="mm"),
        Panel("bargauge", "Battery", [Query(
            flood(f"sitroom_flood_battery_ratio{{{S}}}"), "{{sensor}}", instant=True)],
              w=8, unit="percentunit", min=0, max=1,
              thresholds=[(None, RED), (0.2, YELLOW), (0.4, GREEN)],
              options={"orientation": "horizontal", "displayMode": "basic"}),
        Panel("bargauge", "Seconds since last reading", [Query(
            # newest over every source: a sensor that failed over is not silent
            "time() - max by (sensor) ("
            + flood(f"sitroom_flood_sensor_last_seen_timestamp_seconds{{{S}}}") + ")",
            "{{sensor}}", instant=True)], w=8, unit="s",
              thresholds=[(None, GREEN), (600, YELLOW), (900, RED)],
              options={"orientation": "horizontal", "displayMode": "basic"},
              links=[runbook_link("FloodSensorSilent")]),
        Panel("timeseries", "Messages received / rejected", [
            Query(f"sum by (source) (rate(sitroom_flood_messages_received_total{{{S}}}"
                  "[$__rate_interval]))", "received {{source}}"),
            Query(f"sum by (source, reason) (rate(sitroom_flood_messages_rejected_total"
                  f"{{{S}}}[$__rate_interval])) or sum by (source) (rate("
                  f"sitroom_flood_messages_received_total{{{S}}}[$__rate_interval])) * 0",
                  "rejected {{source}} {{reason}}")], w=8, unit="ops"),
        row("Pump houses (DPU)"),
        Panel("stat", "Pumps running", [Query(
            pumps(f"sitroom_pump_running{{{S}}}"), "{{station}} {{pump}}", instant=True)],
              w=12, h=5, mappings=[ON_OFF], thresholds=[(None, "text"), (1, GREEN)],
              options={"colorMode": "background", "graphMode": "none",
                       "textMode": "value_and_name"}),
        Panel("stat", "Pumps in fault", [Query(
            pumps(f"sitroom_pump_fault{{{S}}}"), "{{station}} {{pump}}", instant=True)],
              w=12, h=5, thresholds=[(None, GREEN), (1, RED)],
              mappings=[{"type": "value", "options": {
                  "0": {"text": "OK", "color": GREEN, "index": 0},
                  "1": {"text": "FAULT", "color": RED, "index": 1}}}],
              options={"colorMode": "background", "graphMode": "none",
                       "textMode": "value_and_name"},
              links=[runbook_link("PumpFault")]),
        Panel("timeseries", "Sump and river level", [
            Query(pumps(f"sitroom_pump_station_sump_level_meters{{{S}}}"), "sump {{station}}"),
            Query(pumps(f"sitroom_pump_station_river_level_meters{{{S}}}"),
                  "river {{station}}")], w=12, h=9, unit="lengthm",
              thresholds=[(None, GREEN), (2.0, RED)],
              custom={"thresholdsStyle": {"mode": "line"}},
              links=[runbook_link("PumpStationSumpHighPumpsStopped")]),
        Panel("timeseries", "Pumped flow", [Query(
            f"sum by (station) ({pumps(f'sitroom_pump_flow_cubic_meters_per_second{{{S}}}')})",
            "{{station}}")], w=12, h=9, unit="flowcms",
              custom={"stacking": {"mode": "normal"}, "fillOpacity": 30}),
        Panel("timeseries", "Motor current", [Query(
            pumps(f"sitroom_pump_motor_current_amperes{{{S}}}"), "{{station}} {{pump}}")],
              w=8, unit="amp"),
        Panel("state-timeline", "Mains power and genset", [
            Query(pumps(f"sitroom_pump_station_power_available{{{S}}}"), "PLN {{station}}"),
            Query(pumps(f"sitroom_pump_station_genset_running{{{S}}}"),
                  "genset {{station}}")], w=8, mappings=[ON_OFF],
              thresholds=[(None, RED), (1, GREEN)],
              options={"showValue": "never", "mergeValues": True},
              links=[runbook_link("PumpStationPowerLost")]),
        Panel("timeseries", "Running share of the last hour", [Query(
            pumps(f"increase(sitroom_pump_run_time_seconds_total{{{S}}}[1h])") + " / 3600",
            "{{station}} {{pump}}")], w=8, unit="percentunit", min=0, max=1,
              description="Share of the last hour each pump ran (device run-time counter)."),
        Panel("bargauge", "Genset fuel", [Query(
            pumps(f"sitroom_pump_station_fuel_level_ratio{{{S}}}"), "{{station}}",
            instant=True)], w=24, h=4, unit="percentunit", min=0, max=1,
              thresholds=[(None, RED), (0.25, YELLOW), (0.5, GREEN)],
              options={"orientation": "horizontal", "displayMode": "lcd"},
              links=[runbook_link("PumpStationGensetFuelLow")]),
        Panel("stat", "Station comms", [Query(
            f'sitroom_source_up{{kind="modbus_pump_station", {S}}}', "{{source}}",
            instant=True)], w=24, h=4, thresholds=[(None, RED), (1, GREEN)],
              mappings=[{"type": "value", "options": {
                  "0": {"text": "NO CONTACT", "color": RED, "index": 0},
                  "1": {"text": "OK", "color": GREEN, "index": 1}}}],
              options={"colorMode": "background", "graphMode": "none",
                       "textMode": "value_and_name"},
              links=[runbook_link("PumpStationCommsDown"),
                     board_link("Situation Room", UID_OVERVIEW)]),
    ]
    return dashboard(
        UID_FLOOD, "sitroom: banjir dan rumah pompa (flood and pumps)",
        "Official warnings (BMKG, PetaBencana, earthquakes), river, drain and tide levels "
        "with BPBD alert levels, rain, and the pump houses.",
        items, tags=["flood", "pumps"],
        variables=[district_var(),
                   source_var("mqtt_sensors|http_sensors|modbus_pump_station|cap_feed|"
                              "earthquake_feed")],
    )
