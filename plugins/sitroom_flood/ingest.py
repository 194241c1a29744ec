"""The one ingest pipeline both transports feed: payload -> reading -> checks -> metrics.

MQTT and HTTP differ only in how bytes arrive; everything that decides what a water level
*is* lives here, so a rule fixed for one transport is fixed for both. The pipeline is
synchronous and cheap (no I/O): the MQTT source runs it inside the client's receive callback,
before the QoS 1 acknowledgement leaves, so an acknowledged reading is a processed reading.

Isolation: each reading is checked completely before anything is written, and it can only
touch its own sensor's series (the sensor id is looked up in config, never taken from the
payload as a label), so garbage from one sensor never shows up in another's.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from sitroom.api import SourceContext, failure_site
from sitroom_flood import events as ev
from sitroom_flood import metrics as m
from sitroom_flood.config import LEVELS, FloodSourceConfig, SensorConfig
from sitroom_flood.levels import alert_level
from sitroom_flood.payload import Decoded, Decoder, Rejected
from sitroom_flood.rate import RateWindow

MM_PER_HOUR = 1.0 / 3.6e6
"""Meters per second in one millimeter per hour."""
RECENT_STAMPS = 64
MAX_RAIN_GAP = 3600.0
"""Rain rate is derived from increments only across reports at most this far apart."""
MAX_UNKNOWN_LISTED = 20
SUCCESS_EVERY = 1.0
STATE_FILE = "last_seen.json"
SAVE_EVERY = 10.0
"""Last-seen times are saved at most this often (and on stop), so that a sensor that died
before a daemon restart is still known to be silent after it, instead of vanishing from
alerts. The write runs in the worker pool, never inside the MQTT receive callback."""

RANGES: dict[str, tuple[float, float]] = {
    "level": (-100.0, 1000.0),
    "distance": (0.0, 1000.0),
    "rain_rate": (0.0, 1000.0),
    "rain": (0.0, 1000.0),
    "rain_total": (0.0, 1e8),
    "battery": (0.0, 1.1),
    "battery_voltage": (0.0, 100.0),
    "signal": (-200.0, 30.0),
}
"""Physically plausible input values (input units); anything else is a broken sensor."""


@dataclass
class SensorState:
    """What the pipeline remembers per configured sensor (bounded)."""

    window: RateWindow
    latest: float = -math.inf  # timestamp of the newest accepted reading
    alert: int = 0
    stamps: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_STAMPS))
    rain_total: float | None = None
    rain_total_at: float = -math.inf
    rain_at: float = -math.inf


class Ingestor:
    """Per-source pipeline state and the metric writes. One instance per running source."""

    def __init__(self, config: FloodSourceConfig, ctx: SourceContext) -> None:
        self.config = config
        self.ctx = ctx
        self.metrics = ctx.metrics
        self.sensors: dict[str, SensorConfig] = dict(config.sensors)
        self.state = {
            sensor_id: SensorState(RateWindow(config.rate_window, config.rate_min_span))
            for sensor_id in self.sensors
        }
        self.unknown: list[str] = []
        self._logged_reasons: set[str] = set()
        self._last_success = -math.inf
        self._last_save = time.monotonic()
        self._dirty = False
        self._saving: asyncio.Task[None] | None = None
        self._started = False
        self._described: set[str] = set()
        self.accepted = 0
        self.reasons: Counter[str] = Counter()

    def start(self) -> None:
        """First run only: static series, then last-seen times saved by a previous run."""
        if self._started:
            return
        self._started = True
        self.publish_static()
        self.restore()

    def restore(self) -> None:
        saved = self.ctx.load_state_json(STATE_FILE)  # None: first start, or unreadable
        if not isinstance(saved, dict):
            return
        for sensor_id, at in saved.items():
            state = self.state.get(sensor_id)
            if state is None or isinstance(at, bool) or not isinstance(at, int | float):
                continue
            if math.isfinite(at) and at > state.latest:
                state.latest = float(at)
                self.metrics.set(m.LAST_SEEN, float(at), sensor=sensor_id)

    def schedule_save(self) -> None:
        """Start a background save unless one is running (called from the hot path)."""
        if self._saving is not None and not self._saving.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): `flush()` on close still saves
        self._saving = loop.create_task(self.save())

    async def flush(self) -> None:
        """On stop: wait for a running save, then write whatever changed since."""
        if self._saving is not None:
            with contextlib.suppress(Exception):
                await self._saving
            self._saving = None
        if self._dirty:
            await self.save()

    async def save(self) -> None:
        """Write last-seen times atomically (a small JSON file under the state dir)."""
        self._dirty = False
        self._last_save = time.monotonic()
        seen = {s: st.latest for s, st in self.state.items() if st.latest > -math.inf}
        try:
            await self.ctx.save_state_json(STATE_FILE, seen)
        except OSError as exc:
            self._dirty = True
            self.ctx.log.warning("flood_state_save_failed", error=exc.strerror)

    def publish_static(self) -> None:
        """Info, thresholds and zeroed counters: known before any reading arrives."""
        self.metrics.inc(m.RECEIVED, 0, sensor="")
        if self.config.describe == "always":
            for sensor_id in self.sensors:
                self._describe(sensor_id)

    def _describe(self, sensor_id: str) -> None:
        """One sensor's info, threshold and zeroed counter series."""
        self._described.add(sensor_id)
        sensor = self.sensors[sensor_id]
        self.metrics.info(
            m.INFO,
            sensor=sensor_id,
            type=sensor.type,
            location=sensor.location,
            district=sensor.district,
            river=sensor.river,
            latitude="" if sensor.latitude is None else f"{sensor.latitude:.6f}",
            longitude="" if sensor.longitude is None else f"{sensor.longitude:.6f}",
        )
        self.metrics.inc(m.RECEIVED, 0, sensor=sensor_id)
        if sensor.thresholds is None:
            return
        for level, value in zip(LEVELS, sensor.thresholds.as_tuple(), strict=True):
            if sensor.type == "rain_gauge":
                self.metrics.set(m.RAIN_THRESHOLD, value * MM_PER_HOUR, sensor=sensor_id,
                                 level=level)
            else:
                self.metrics.set(m.THRESHOLD, value, sensor=sensor_id, level=level)

    # -- entry points ---------------------------------------------------------------------

    def ingest_bytes(self, decoder: Decoder, payload: bytes, topic_sensor: str | None,
                     now: float | None = None, retained: bool = False) -> int:
        """One raw message (MQTT publish). Returns how many readings were accepted.

        `retained`: the broker replayed a stored message on subscribe. Without a timestamp
        its age is unknown, so it is refused (`retained_untimed`): a dead sensor's last
        retained "normal" must not look like a live reading.
        """
        try:
            readings = decoder.decode_bytes(payload, topic_sensor)
        except Rejected as exc:
            self.reject(exc.reason, self.known(exc.sensor), received=True)
            return 0
        except Exception as exc:  # a decoder bug must not drop the broker connection
            self.reject_internal(exc, self.known(topic_sensor))
            return 0
        if retained:
            untimed = [r for r in readings if r.timestamp is None]
            for reading in untimed:
                self.reject("retained_untimed", self.known(reading.sensor), received=True)
            readings = [r for r in readings if r.timestamp is not None]
        return self._ingest_all(readings, now)

    def ingest_document(self, decoder: Decoder, document: Any, now: float | None = None) -> int:
        """One parsed JSON item (an HTTP batch element)."""
        try:
            readings = decoder.decode_document(document, None)
        except Rejected as exc:
            self.reject(exc.reason, self.known(exc.sensor), received=True)
            return 0
        except Exception as exc:  # a decoder bug: this item is lost, the batch goes on
            self.reject_internal(exc)
            return 0
        return self._ingest_all(readings, now)

    def reject_internal(self, exc: Exception, sensor: str = "", received: bool = True) -> None:
        """An unexpected exception while ingesting one item: counted as `internal` and
        logged once, by type and place only (its message may quote the payload)."""
        self.reject("internal", sensor, received=received, detail=failure_site(exc))

    def reject(self, reason: str, sensor: str = "", received: bool = False,
               detail: str = "") -> None:
        """Count a rejected message (and, when it was never counted, its receipt)."""
        if received:
            self.metrics.inc(m.RECEIVED, sensor=sensor)
        self.metrics.inc(m.REJECTED, sensor=sensor, reason=reason)
        self.reasons[reason] += 1
        if reason not in self._logged_reasons:
            self._logged_reasons.add(reason)
            log = self.ctx.log.error if reason == "internal" else self.ctx.log.warning
            log("flood_message_rejected", reason=reason, sensor=sensor,
                note="first of its reason; further ones are only counted",
                **({"at": detail} if detail else {}))

    # -- pipeline ---------------------------------------------------------------------------

    def _ingest_all(self, readings: list[Decoded], now: float | None) -> int:
        now = time.time() if now is None else now
        accepted = 0
        for reading in readings:
            sensor_id = reading.sensor
            if sensor_id is None or sensor_id not in self.sensors:
                self._note_unknown(sensor_id)
                self.reject("unknown_sensor", "", received=True)
                continue
            self.metrics.inc(m.RECEIVED, sensor=sensor_id)
            try:
                self._accept(sensor_id, reading, now)
            except Rejected as exc:
                self.reject(exc.reason, sensor_id)
                continue
            except Exception as exc:  # a pipeline bug costs this reading, not the others
                self.reject_internal(exc, sensor_id, received=False)
                continue
            accepted += 1
        if accepted:
            self.accepted += accepted
            self._dirty = True
            tick = time.monotonic()
            if tick - self._last_success >= SUCCESS_EVERY:
                self._last_success = tick
                self.ctx.mark_success()
                if time.monotonic() - self._last_save >= SAVE_EVERY:
                    self.schedule_save()
        return accepted

    def known(self, sensor: str | None) -> str:
        return sensor if sensor is not None and sensor in self.sensors else ""

    def _note_unknown(self, sensor_id: str | None) -> None:
        if sensor_id is None or sensor_id in self.unknown:
            return
        if len(self.unknown) < MAX_UNKNOWN_LISTED:
            self.unknown.append(sensor_id)
            self.ctx.set_detail("unknown_sensors", list(self.unknown))

    def _validate(self, sensor_id: str, sensor: SensorConfig, reading: Decoded,
                  state: SensorState, now: float) -> float:
        """Every check before any write; returns the reading's time."""
        at = now if reading.timestamp is None else reading.timestamp
        if at > now + self.config.max_clock_skew:
            raise Rejected("future_timestamp", sensor_id)
        if at < now - self.config.max_age:
            raise Rejected("too_old", sensor_id)
        for quantity, value in reading.values.items():
            low, high = RANGES[quantity]
            if not low <= value <= high:
                raise Rejected("out_of_range", sensor_id)
        main = self._main_value(sensor, reading.values)
        if main is not None:
            if sensor.min_value is not None and main < sensor.min_value:
                raise Rejected("out_of_range", sensor_id)
            if sensor.max_value is not None and main > sensor.max_value:
                raise Rejected("out_of_range", sensor_id)
        if reading.timestamp is not None and at in state.stamps:
            raise Rejected("duplicate", sensor_id)
        return at

    @staticmethod
    def _level(sensor: SensorConfig, values: dict[str, float]) -> float | None:
        if "level" in values:
            return values["level"] + sensor.datum_offset
        if "distance" in values:
            return sensor.datum_offset - values["distance"]
        return None

    def _main_value(self, sensor: SensorConfig, values: dict[str, float]) -> float | None:
        if sensor.type == "rain_gauge":
            return values.get("rain_rate")
        return self._level(sensor, values)

    def _accept(self, sensor_id: str, reading: Decoded, now: float) -> None:
        if sensor_id not in self._described:
            self._describe(sensor_id)
        sensor = self.sensors[sensor_id]
        state = self.state[sensor_id]
        at = self._validate(sensor_id, sensor, reading, state, now)
        values = reading.values
        if reading.timestamp is not None:
            state.stamps.append(at)
        newest = at >= state.latest
        fresh = at >= now - self.config.stale_after
        current = newest and fresh
        labels = {"sensor": sensor_id}
        write = self.metrics.set

        level = self._level(sensor, values)
        if level is not None:
            state.window.add(at, level)
            if current:
                write(m.WATER_LEVEL, level, **labels)
            if max(at, state.latest) >= now - self.config.stale_after:
                slope = state.window.slope()
                if slope is not None:
                    write(m.RATE_OF_RISE, slope, **labels)
                    if current:
                        self._rising(sensor_id, slope * 3600.0)

        rain_rate = values.get("rain_rate")
        derived = self._rain(sensor_id, state, values, at)
        rain_rate = derived if rain_rate is None else rain_rate
        if rain_rate is not None and current:
            write(m.RAIN_RATE, rain_rate * MM_PER_HOUR, **labels)

        if current:
            if "battery" in values:
                write(m.BATTERY_RATIO, min(values["battery"], 1.0), **labels)
            if "battery_voltage" in values:
                write(m.BATTERY_VOLTS, values["battery_voltage"], **labels)
            if "signal" in values:
                write(m.SIGNAL, values["signal"], **labels)
            main = rain_rate if sensor.type == "rain_gauge" else level
            if sensor.thresholds is not None and main is not None:
                state.alert = alert_level(main, sensor.thresholds.as_tuple(), state.alert,
                                          sensor.thresholds.hysteresis)
                write(m.ALERT_LEVEL, state.alert, **labels)
                self._alert_events(sensor_id, sensor, state.alert, main)
        if newest:
            state.latest = at
            write(m.LAST_SEEN, at, **labels)

    def _alert_events(self, sensor_id: str, sensor: SensorConfig, level: int,
                      main: float) -> None:
        """Push each level the sensor is at or above (as the rules' `>=`), once per
        crossing: the text keeps the value that crossed, so readings do not re-send it."""
        specs = ev.RAIN_LEVELS if sensor.type == "rain_gauge" else ev.FLOOD_LEVELS
        for number, spec in specs.items():
            if level >= number:
                if not self.ctx.events.is_active(spec, sensor=sensor_id):
                    self.ctx.events.fire(spec, **ev.text_fields(sensor_id, sensor, main))
            else:
                self.ctx.events.resolve(spec, sensor=sensor_id)

    def _rising(self, sensor_id: str, meters_per_hour: float) -> None:
        """FloodWaterRisingFast: raised while the fitted rate is over the alarm, after the
        spec's 5-minute hold (the core's `for:`)."""
        events = self.ctx.events
        if meters_per_hour > ev.RISE_ALARM_M_PER_H:
            if not events.is_active(ev.RISING_FAST, sensor=sensor_id):
                events.fire(ev.RISING_FAST, sensor=sensor_id, rate=f"{meters_per_hour:.2f}")
        else:
            events.resolve(ev.RISING_FAST, sensor=sensor_id)

    def _rain(self, sensor_id: str, state: SensorState, values: dict[str, float],
              at: float) -> float | None:
        """Count rain depth; derive a rain rate (mm/h) from increments when none is sent."""
        depth: float | None = None
        since = -math.inf
        if "rain" in values:
            depth = values["rain"]
            since = state.rain_at
            if at > state.rain_at:
                state.rain_at = at
        elif "rain_total" in values:
            total = values["rain_total"]
            if at > state.rain_total_at:
                if state.rain_total is not None:
                    # a smaller running total means the logger restarted from zero
                    depth = total - state.rain_total if total >= state.rain_total else total
                since = state.rain_total_at
                state.rain_total, state.rain_total_at = total, at
        if depth is None:
            return None
        self.metrics.inc(m.RAIN_TOTAL, depth / 1000.0, sensor=sensor_id)
        gap = at - since
        if 0 < gap <= MAX_RAIN_GAP:
            return depth / gap * 3600.0
        return None
