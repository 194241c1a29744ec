"""Pump-house events pushed from the poll that reads them, in the rules' words.

Names, teams and texts are those of alerts/pumps.rules.yml. Holds mirror the rules' `for:`
where the condition's meaning is a duration ("no pump has run for 2 minutes", "off for a
minute"); a fault is pushed at the poll that reads it.
"""

from __future__ import annotations

from sitroom.api import EventSpec, Text

_STATION = ("station",)
_INFO = ("station_name", "district")

PUMP_FAULT = EventSpec(
    "PumpFault", "warning", "dpu",
    summary=Text("pump {pump} at {station} reports a fault",
                 "pompa {pump} di {station} melaporkan gangguan"),
    description=Text(
        "Pump {pump} at {station}{named} reports a fault{code_en}. The station has less "
        "pumping capacity; during rain the sump may rise.",
        "Pompa {pump} di {station}{named} melaporkan gangguan{code_id}. Kapasitas pompa "
        "berkurang; saat hujan muka air kolam bisa naik."),
    labels=("station", "pump"), info_labels=_INFO)

SUMP_HIGH = EventSpec(
    "PumpStationSumpHighPumpsStopped", "critical", "dpu",
    summary=Text("sump high at {station} and no pump is running",
                 "kolam {station} tinggi dan tidak ada pompa yang jalan"),
    description=Text(
        "The sump at {station} is at {level} m and no pump has run for 2 minutes. The polder "
        "will flood if this continues: start the pumps (locally if needed) and check power "
        "and faults.",
        "Kolam (sump) {station} setinggi {level} m dan tidak ada pompa yang jalan selama 2 "
        "menit. Polder akan banjir jika dibiarkan: jalankan pompa (manual bila perlu), "
        "periksa listrik dan gangguan."),
    labels=_STATION, hold=120.0)

POWER_LOST = EventSpec(
    "PumpStationPowerLost", "critical", "dpu",
    summary=Text("{station} has no mains power and the genset is not running",
                 "{station} tanpa listrik PLN dan genset tidak menyala"),
    description=Text(
        "Mains (PLN) power at {station} has been off for a minute and the standby generator "
        "is not running (or the station has none): the pumps cannot run.",
        "Listrik PLN di {station} padam sejak satu menit dan genset cadangan tidak menyala "
        "(atau tidak ada): pompa tidak bisa jalan."),
    labels=_STATION, hold=60.0)

EVENTS = (PUMP_FAULT, SUMP_HIGH, POWER_LOST)
