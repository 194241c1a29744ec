"""Flood and pumps: the water side of the room (BPBD and DPU look at the same board)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import (
    bargauge,
    common,
    stat,
    statetimeline,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    BigValueColorMode,
    BigValueGraphMode,
    BigValueTextMode,
    GraphThresholdsStyleMode,
    StackingMode,
    VisibilityMode,
    VizOrientation,
)

from dashgen.builders import (
    FLOOD_LEVELS,
    GREEN,
    LEVEL_STEPS,
    ON_OFF,
    ORANGE,
    RED,
    UID_FLOOD,
    UID_OVERVIEW,
    YELLOW,
    Item,
    board_link,
    dashboard,
    district_var,
    in_district,
    prom,
    runbook_link,
    source_var,
    steps,
    transform,
    value_text,
)
from dashgen.builders import SOURCE_MATCH as S

FLOOD_INFO = "sitroom_flood_sensor_info"
PUMP_INFO = "sitroom_pump_station_info"
LINE = common.GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.LINE)


def flood(expr: str) -> str:
    return in_district(expr, FLOOD_INFO, "source, sensor")


def pumps(expr: str) -> str:
    return in_district(expr, PUMP_INFO, "source, station")


def tiles(title: str, expr: str, legend: str) -> stat.Panel:
    """One coloured tile per series with its name: states at a glance."""
    return (stat.Panel().title(title).with_target(prom(expr, legend, instant=True))
            .color_mode(BigValueColorMode.BACKGROUND).graph_mode(BigValueGraphMode.NONE)
            .text_mode(BigValueTextMode.VALUE_AND_NAME))


def bars(title: str, expr: str, legend: str) -> bargauge.Panel:
    """Horizontal bars of one instant query."""
    return (bargauge.Panel().title(title).with_target(prom(expr, legend, instant=True))
            .orientation(VizOrientation.HORIZONTAL).display_mode(BarGaugeDisplayMode.BASIC))


FLOOD_STATES = value_text({1: ("1 depth unknown", YELLOW), 2: ("2 10-70 cm", YELLOW),
                           3: ("3 71-150 cm", ORANGE), 4: ("4 over 150 cm", RED)})


def warnings() -> list[Item]:
    """BMKG nowcasts and PetaBencana flood states by kecamatan, and the latest earthquake."""
    return [
        Row("Official warnings: BMKG and PetaBencana (BPBD)"),
        table.Panel().title("Active BMKG warnings by kecamatan").span(10).height(8)
        .description("CAP alerts in force (effective, not expired, not cancelled); area "
                     "`semarang` = the whole city without a named kecamatan.")
        .with_target(prom(f"sum by (area, event, severity, urgency) (sitroom_cap_alerts_active"
                          f'{{{S}, area!="outside"}})', instant=True, table=True))
        .links([runbook_link("BmkgWeatherWarningOverSemarang")]),
        tiles("PetaBencana flood state by kecamatan",
              f"max by (area) (sitroom_cap_flood_state{{{S}}})", "{{area}}")
        .span(8).height(8).mappings([FLOOD_STATES])
        .thresholds(steps((None, YELLOW), (3, ORANGE), (4, RED)))
        .links([runbook_link("CitizenFloodReport"), runbook_link("CitizenDeepFloodReport")]),
        stat.Panel().title("Latest earthquake (BMKG)").span(6).height(8)
        .with_target(prom(f"max(sitroom_earthquake_latest_magnitude{{{S}}})", "magnitude",
                          instant=True))
        .with_target(prom(f"min(sitroom_earthquake_latest_distance_meters{{{S}}}) / 1000",
                          "km from Simpang Lima", instant=True))
        .with_target(prom(f"max(sitroom_earthquake_latest_city_felt_mmi{{{S}}})",
                          "MMI in Semarang", instant=True))
        .with_target(prom(f"max(sitroom_earthquake_latest_tsunami_potential{{{S}}})",
                          "tsunami potential", instant=True))
        .color_mode(BigValueColorMode.NONE).graph_mode(BigValueGraphMode.NONE)
        .text_mode(BigValueTextMode.VALUE_AND_NAME).orientation(VizOrientation.VERTICAL)
        .links([runbook_link("EarthquakeFeltNearSemarang"),
                runbook_link("EarthquakeTsunamiPotential")]),
    ]


def build() -> dict[str, Any]:
    items: list[Item] = [
        *warnings(),
        Row("Rivers, drains and tide (BPBD)"),
        tiles("Alert level by sensor", flood(f"sitroom_flood_alert_level{{{S}}}"), "{{sensor}}")
        .span(24).height(5).mappings([FLOOD_LEVELS]).thresholds(steps(*LEVEL_STEPS))
        .links([runbook_link("FloodLevelSiaga"), runbook_link("FloodLevelAwas")]),
        timeseries.Panel().title("Water level").span(12).height(9).unit("lengthm")
        .description("Water or sea level above each sensor's datum; the thresholds of each "
                     "sensor are in the table beside it.")
        .with_target(prom(flood(f"sitroom_flood_water_level_meters{{{S}}}"), "{{sensor}}"))
        .links([runbook_link("FloodLevelWaspada")]),
        table.Panel().title("Thresholds (m)").span(12).height(9).unit("lengthm")
        .with_target(prom(flood(f"sitroom_flood_threshold_meters{{{S}}}"), instant=True,
                          table=True))
        .with_transformation(transform("groupingToMatrix", columnField="level",
                                       rowField="sensor", valueField="Value")),
        timeseries.Panel().title("Rate of rise").span(8).height(8).unit("m/h")
        .description("Robust line fit over the source's rate_window, in m/h.")
        .with_target(prom(flood("sitroom_flood_water_level_rate_of_rise_meters_per_second"
                                f"{{{S}}}") + " * 3600", "{{sensor}}"))
        .thresholds(steps((None, GREEN), (0.5, RED))).thresholds_style(LINE)
        .links([runbook_link("FloodWaterRisingFast")]),
        timeseries.Panel().title("Rain rate").span(8).height(8).unit("mm/h")
        .description("Rain intensity in mm/h.")
        .with_target(prom(flood(f"sitroom_flood_rain_rate_meters_per_second{{{S}}}")
                          + " * 3.6e6", "{{sensor}}")),
        timeseries.Panel().title("Rain in the last hour").span(8).height(8).unit("mm")
        .with_target(prom(flood(f"increase(sitroom_flood_rain_meters_total{{{S}}}[1h])")
                          + " * 1000", "{{sensor}}")),
        bars("Battery", flood(f"sitroom_flood_battery_ratio{{{S}}}"), "{{sensor}}")
        .span(8).height(8).unit("percentunit").min(0).max(1)
        .thresholds(steps((None, RED), (0.2, YELLOW), (0.4, GREEN))),
        # newest over every source: a sensor that failed over is not silent
        bars("Seconds since last reading", "time() - max by (sensor) ("
             + flood(f"sitroom_flood_sensor_last_seen_timestamp_seconds{{{S}}}") + ")",
             "{{sensor}}")
        .span(8).height(8).unit("s")
        .thresholds(steps((None, GREEN), (600, YELLOW), (900, RED)))
        .links([runbook_link("FloodSensorSilent")]),
        timeseries.Panel().title("Messages received / rejected").span(8).height(8).unit("ops")
        .with_target(prom(f"sum by (source) (rate(sitroom_flood_messages_received_total{{{S}}}"
                          "[$__rate_interval]))", "received {{source}}"))
        .with_target(prom("sum by (source, reason) (rate(sitroom_flood_messages_rejected_total"
                          f"{{{S}}}[$__rate_interval])) or sum by (source) (rate("
                          f"sitroom_flood_messages_received_total{{{S}}}[$__rate_interval])) "
                          "* 0", "rejected {{source}} {{reason}}")),
        Row("Pump houses (DPU)"),
        tiles("Pumps running", pumps(f"sitroom_pump_running{{{S}}}"), "{{station}} {{pump}}")
        .span(12).height(5).mappings([ON_OFF]).thresholds(steps((None, "text"), (1, GREEN))),
        tiles("Pumps in fault", pumps(f"sitroom_pump_fault{{{S}}}"), "{{station}} {{pump}}")
        .span(12).height(5).thresholds(steps((None, GREEN), (1, RED)))
        .mappings([value_text({0: ("OK", GREEN), 1: ("FAULT", RED)})])
        .links([runbook_link("PumpFault")]),
        timeseries.Panel().title("Sump and river level").span(12).height(9).unit("lengthm")
        .with_target(prom(pumps(f"sitroom_pump_station_sump_level_meters{{{S}}}"),
                          "sump {{station}}"))
        .with_target(prom(pumps(f"sitroom_pump_station_river_level_meters{{{S}}}"),
                          "river {{station}}"))
        .thresholds(steps((None, GREEN), (2.0, RED))).thresholds_style(LINE)
        .links([runbook_link("PumpStationSumpHighPumpsStopped")]),
        timeseries.Panel().title("Pumped flow").span(12).height(9).unit("flowcms")
        .with_target(prom("sum by (station) ("
                          + pumps(f"sitroom_pump_flow_cubic_meters_per_second{{{S}}}") + ")",
                          "{{station}}"))
        .stacking(common.StackingConfig().mode(StackingMode.NORMAL)).fill_opacity(30),
        timeseries.Panel().title("Motor current").span(8).height(8).unit("amp")
        .with_target(prom(pumps(f"sitroom_pump_motor_current_amperes{{{S}}}"),
                          "{{station}} {{pump}}")),
        statetimeline.Panel().title("Mains power and genset").span(8).height(8)
        .with_target(prom(pumps(f"sitroom_pump_station_power_available{{{S}}}"),
                          "PLN {{station}}"))
        .with_target(prom(pumps(f"sitroom_pump_station_genset_running{{{S}}}"),
                          "genset {{station}}"))
        .mappings([ON_OFF]).thresholds(steps((None, RED), (1, GREEN)))
        .show_value(VisibilityMode.NEVER).merge_values(True)
        .links([runbook_link("PumpStationPowerLost")]),
        timeseries.Panel().title("Running share of the last hour").span(8).height(8)
        .unit("percentunit").min(0).max(1)
        .description("Share of the last hour each pump ran (device run-time counter).")
        .with_target(prom(pumps(f"increase(sitroom_pump_run_time_seconds_total{{{S}}}[1h])")
                          + " / 3600", "{{station}} {{pump}}")),
        bargauge.Panel().title("Genset fuel").span(24).height(4).unit("percentunit")
        .min(0).max(1)
        .with_target(prom(pumps(f"sitroom_pump_station_fuel_level_ratio{{{S}}}"),
                          "{{station}}", instant=True))
        .thresholds(steps((None, RED), (0.25, YELLOW), (0.5, GREEN)))
        .orientation(VizOrientation.HORIZONTAL).display_mode(BarGaugeDisplayMode.LCD)
        .links([runbook_link("PumpStationGensetFuelLow")]),
        tiles("Station comms", f'sitroom_source_up{{kind="modbus_pump_station", {S}}}',
              "{{source}}")
        .span(24).height(4).thresholds(steps((None, RED), (1, GREEN)))
        .mappings([value_text({0: ("NO CONTACT", RED), 1: ("OK", GREEN)})])
        .links([runbook_link("PumpStationCommsDown"),
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
