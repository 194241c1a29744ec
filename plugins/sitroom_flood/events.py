"""The flood events pushed the moment a reading decides them, with the rules' wording.

Alert names, teams and texts are those of alerts/flood.rules.yml, so an agency reads the same
message whichever path delivered it (tests/flood/test_events.py renders both and compares).
Rain gauges have their own alerts (Rainfall*): a rain reading over a threshold is not a
river at Siaga, and its advice differs.
"""

from __future__ import annotations

from typing import Any

from sitroom.api import EventSpec, Text
from sitroom_flood.config import SensorConfig

RISE_ALARM_M_PER_H = 0.5
"""FloodWaterRisingFast: the rate the rule alerts on, held 5 minutes on both paths."""

_WHERE = ("sensor",)
_INFO = ("location", "district", "river")

_LEVEL_TEXT = {
    1: ("Waspada", "be alert", "Watch the trend and prepare the pump houses downstream.",
        "Pantau tren dan siapkan rumah pompa di hilir."),
    2: ("Siaga", "standby", "Brief the kelurahan, stage pumps and evacuation teams.",
        "Kabari kelurahan, siagakan pompa dan tim evakuasi."),
    3: ("Awas", "danger", "Flooding is imminent or under way: start the evacuation procedure.",
        "Banjir segera terjadi atau sedang terjadi: jalankan prosedur evakuasi."),
}


def _level_spec(level: int) -> EventSpec:
    name, meaning, advice_en, advice_id = _LEVEL_TEXT[level]
    shout = name if level == 1 else name.upper()
    return EventSpec(
        f"FloodLevel{name}", "warning" if level == 1 else "critical", "bpbd",
        summary=Text(f"{shout} at {{sensor}}{{where}}", f"{shout} di {{sensor}}{{where}}"),
        description=Text(
            f"Sensor {{sensor}}{{on_river}} has reached {name} (alert level {level}: "
            f"{meaning}). {{level_en}}{advice_en}",
            f"Sensor {{sensor}}{{di_river}} mencapai {name} (level {level}). "
            f"{{level_id}}{advice_id}"),
        labels=_WHERE, info_labels=_INFO)


_RAIN_TEXT = {
    1: ("Waspada", "heavy rain",
        "Drains in the catchment fill fast: check the pump houses are ready.",
        "hujan lebat", "Saluran di daerah tangkapan cepat penuh: pastikan rumah pompa siap."),
    2: ("Siaga", "very heavy rain",
        "Expect the rivers and polders downstream to rise within the hour: start the pumps "
        "and warn low-lying kelurahan.",
        "hujan sangat lebat",
        "Sungai dan polder di hilir akan naik dalam satu jam: jalankan pompa dan kabari "
        "kelurahan dataran rendah."),
    3: ("Awas", "extreme rain",
        "Flash floods and overflowing drains are likely: alert every team in the catchment.",
        "hujan ekstrem",
        "Banjir bandang dan saluran meluap sangat mungkin: siagakan semua tim di daerah "
        "tangkapan."),
}


def _rain_spec(level: int) -> EventSpec:
    name, what_en, advice_en, what_id, advice_id = _RAIN_TEXT[level]
    return EventSpec(
        f"Rainfall{name}", "warning" if level == 1 else "critical", "bpbd",
        summary=Text(f"{what_en} at rain gauge {{sensor}}{{where}}",
                     f"{what_id} di penakar hujan {{sensor}}{{where}}"),
        description=Text(
            f"Rain gauge {{sensor}}{{on_river}} measures {{rain_en}}over its {name} "
            f"threshold for {what_en}. {advice_en}",
            f"Penakar hujan {{sensor}}{{di_river}} mencatat {{rain_id}}di atas ambang {name} "
            f"untuk {what_id}. {advice_id}"),
        labels=_WHERE, info_labels=_INFO)


FLOOD_LEVELS = {level: _level_spec(level) for level in (1, 2, 3)}
RAIN_LEVELS = {level: _rain_spec(level) for level in (1, 2, 3)}

RISING_FAST = EventSpec(
    "FloodWaterRisingFast", "warning", "bpbd",
    summary=Text("water rising {rate} m/h at {sensor}", "air naik {rate} m/jam di {sensor}"),
    description=Text(
        "The level at {sensor} has risen faster than 0.5 m per hour for 5 minutes "
        "({rate} m/h). Expect the next alert level soon.",
        "Muka air di {sensor} naik lebih dari 0,5 m per jam selama 5 menit ({rate} m/jam). "
        "Level siaga berikutnya kemungkinan segera tercapai."),
    labels=_WHERE, hold=300.0)

EVENTS = (*FLOOD_LEVELS.values(), *RAIN_LEVELS.values(), RISING_FAST)


def text_fields(sensor_id: str, sensor: SensorConfig, value: float | None
                ) -> dict[str, Any]:
    """Labels and the ready-made optional parts the templates above expect."""
    fields = {"sensor": sensor_id, "location": sensor.location, "district": sensor.district,
              "river": sensor.river,
              "where": f" ({sensor.location}, {sensor.district})" if sensor.location else "",
              "on_river": f" on {sensor.river}" if sensor.river else "",
              "di_river": f" di {sensor.river}" if sensor.river else ""}
    if value is not None:
        fields["level_en"] = f"Water level {value:.2f} m. "
        fields["level_id"] = f"Tinggi muka air {value:.2f} m. "
        fields["rain_en"] = f"{value:.1f} mm/h, "
        fields["rain_id"] = f"{value:.1f} mm/jam, "
    return fields
