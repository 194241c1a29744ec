"""The `modbus_pump_station` source: run the read plan, decode, judge and publish.

A station is many independent facts. One bad register (a level sensor whose 4-20 mA loop
broke reads 0xFFFF) or one dead unit behind a gateway must cost exactly those values, never
the rest of the station, so failures are handled per read and per point: the value series
is withdrawn (no stale numbers on the wall), `sitroom_pump_point_up` drops to 0, a failure
counter rises, and the transition is logged once. Only when nothing at all could be read
does the poll fail, which is what `sitroom_source_up` then reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sitroom.api import PollingSource, SourceContext, SourceError
from sitroom_pumps import events as ev
from sitroom_pumps.config import PumpStationConfig
from sitroom_pumps.connection import DeviceException, ModbusError, NotConnected, StationConnection
from sitroom_pumps.datatypes import decode
from sitroom_pumps.metrics import (
    CONNECTS,
    DEVICE_INFO,
    DEVICE_UP,
    FAULT,
    MODBUS_ERRORS,
    MODBUS_REQUEST_DURATION,
    MODBUS_REQUESTS,
    POINT_READ_FAILURES,
    POINT_UP,
    STATION_INFO,
)
from sitroom_pumps.planner import Point, Read, place_points, plan_reads

_STRING_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F))
MAX_STRING_LABEL = 32


def clean_string(text: str) -> str:
    """Device strings become label values: printable ASCII, bounded, never empty."""
    kept = "".join(ch for ch in text if ch in _STRING_CHARS).strip()
    return kept[:MAX_STRING_LABEL] or "unknown"


class BadValue(ValueError):
    pass


def point_value(point: Point, registers: Sequence[int]) -> float | str:
    """Decode and judge one point; raises `BadValue` for NaN, infinities and out-of-range."""
    spec = point.spec
    try:
        raw = decode(registers, spec.type, byte_order=spec.byte_order,
                     word_order=spec.word_order, bit=spec.bit)
    except (ValueError, IndexError, OverflowError) as exc:
        raise BadValue(f"undecodable: {exc}") from None
    if isinstance(raw, str):
        return clean_string(raw)
    value = raw * spec.scale + spec.offset
    if not math.isfinite(value):
        raise BadValue("not a finite number")
    if spec.valid_min is not None and value < spec.valid_min:
        raise BadValue(f"{value:g} below valid_min {spec.valid_min:g}")
    if spec.valid_max is not None and value > spec.valid_max:
        raise BadValue(f"{value:g} above valid_max {spec.valid_max:g}")
    if spec.shape == "bool":
        return 1.0 if (value != 0) != spec.invert else 0.0
    value = spec.to_base(value)
    if point.metric is not None and point.metric.type == "counter" and value < 0:
        raise BadValue("a counter cannot be negative")
    # a role's ratio is a fill level (0..1); a metric of its own may pass 1 (thermal state)
    if (spec.role is not None and point.metric is not None and point.metric.unit == "ratio"
            and not 0.0 <= value <= 1.0):
        raise BadValue(f"ratio {value:g} outside 0..1")
    return value


class PumpStation(PollingSource):
    config: PumpStationConfig

    def __init__(self, config: PumpStationConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.station = config.station_id
        self.points = place_points(config)
        self.reads = plan_reads(
            self.points,
            max_registers=config.max_registers_per_read,
            max_bits=config.max_bits_per_read,
            merge_gap=config.merge_gap,
        )
        self.units = sorted({d.unit for d in config.devices})
        self.conn = StationConnection(
            config.host,
            config.port,
            connect_timeout=float(config.connect_timeout),
            request_timeout=float(config.request_timeout),
            pause=float(config.request_pause),
        )
        # pumps whose fault flag is derived from a fault code (the map has no fault bit)
        roles_by_pump: dict[str, set[str]] = {}
        for point in self.points:
            if point.pump is not None and point.spec.role is not None:
                roles_by_pump.setdefault(point.pump, set()).add(point.spec.role)
        self.derived_fault = {
            pump for pump, roles in roles_by_pump.items()
            if "fault_code" in roles and "fault" not in roles
        }
        self._failed_points: dict[str, bool] = {}  # point id -> its failure was logged
        self._down_units: set[int] = set()
        self._device_info: dict[int, tuple[str, str]] = {}
        self._connects_seen = 0
        ctx.set_detail("points", len(self.points))
        ctx.set_detail("requests_per_poll", len(self.reads))

    # -- the poll --------------------------------------------------------------------------

    async def collect(self) -> None:
        self._write_info()
        answered: set[int] = set()
        skip_units: dict[int, str] = {}
        strings: dict[int, dict[str, str]] = {}
        last_error: ModbusError | None = None
        try:
            for read in self.reads:
                if read.unit in skip_units:
                    self._fail_read(read, skip_units[read.unit], log=False)
                    continue
                try:
                    result = await self.conn.read(read.function, read.unit, read.start,
                                                  read.count)
                except NotConnected:
                    raise
                except DeviceException as exc:
                    last_error = exc
                    self._count_request(read, exc.reason)
                    self._fail_read(read, "exception", detail=str(exc))
                    continue
                except ModbusError as exc:
                    last_error = exc
                    self._count_request(read, exc.reason)
                    skip_units[read.unit] = exc.reason  # the unit is silent: don't wait again
                    self._fail_read(read, exc.reason, log=False)
                    continue
                self._count_request(read, None, result.seconds)
                answered.add(read.unit)
                self._apply(read, result.values, strings)
        except NotConnected as exc:
            self._fail_all()
            raise SourceError("connect", str(exc)) from None
        finally:
            self._note_connects()
        self._update_units(answered, skip_units)
        self._update_device_info(strings)
        self._raise_events()
        if not answered:
            reason = {"timeout": "timeout", "connection": "connect"}.get(
                last_error.reason if last_error is not None else "", "protocol")
            raise SourceError(reason, f"no valid answer from {self.station}: {last_error}")

    async def close(self) -> None:
        self.conn.close()

    # -- events ----------------------------------------------------------------------------

    def _raise_events(self) -> None:
        """Fault, sump-high-with-no-pump and power-lost, judged on what this poll read.

        A value this poll could not read leaves its event as it was: an unknown is not an
        all-clear (comms loss has its own rule)."""
        events, get, station = self.ctx.events, self.metrics.get, self.station
        info = self.config.station
        where: dict[str, Any] = {"station": station, "station_name": info.name or station,
                 "district": info.district}
        named = f" ({info.name or station})"
        pumps = sorted({p.pump for p in self.points if p.pump is not None})
        for pump in pumps:
            fault = get("sitroom_pump_fault", station=station, pump=pump)
            if fault is None:
                continue
            code = get("sitroom_pump_fault_code", station=station, pump=pump)
            code_en = f" (code {code:g})" if code is not None else ""
            code_id = f" (kode {code:g})" if code is not None else ""
            if fault and events.is_active(ev.PUMP_FAULT, station=station, pump=pump):
                continue
            events.set(ev.PUMP_FAULT, bool(fault), pump=pump, named=named, code_en=code_en,
                       code_id=code_id, **where)
        sump = get("sitroom_pump_station_sump_level_meters", station=station)
        running = [get("sitroom_pump_running", station=station, pump=p) for p in pumps]
        if sump is not None and running and all(r is not None for r in running):
            events.set(ev.SUMP_HIGH, sump > self.config.sump_high_level and not any(running),
                       station=station, level=f"{sump:.2f}")
        power = get("sitroom_pump_station_power_available", station=station)
        genset = get("sitroom_pump_station_genset_running", station=station)
        if power is not None:
            events.set(ev.POWER_LOST, power == 0 and not genset, station=station)

    # -- writing values --------------------------------------------------------------------

    def _labels(self, point: Point) -> dict[str, str]:
        labels = {"station": self.station}
        if point.pump is not None:
            labels["pump"] = point.pump
        if point.spec.metric is not None:
            labels.update(point.spec.metric.labels)
        return labels

    def _apply(self, read: Read, values: list[int], strings: dict[int, dict[str, str]]) -> None:
        for point in read.points:
            offset = point.address - read.start
            try:
                value = point_value(point, values[offset : offset + point.width])
            except BadValue as exc:
                self._fail_point(point, "bad_value", detail=str(exc))
                continue
            if isinstance(value, str):
                strings.setdefault(point.unit, {})[point.spec.key] = value
            elif point.metric is not None:
                self.metrics.set(point.metric, value, **self._labels(point))
                if point.pump in self.derived_fault and point.spec.role == "fault_code":
                    self.metrics.set(FAULT, 1.0 if value else 0.0,
                                     **self._labels(point))
            self.metrics.set(POINT_UP, 1, station=self.station, point=point.id)
            if self._failed_points.pop(point.id, False):
                self.log.info("pump_point_recovered", point=point.id)

    def _fail_point(self, point: Point, reason: str, *, log: bool = True,
                    detail: str = "") -> None:
        self.metrics.inc(POINT_READ_FAILURES, station=self.station,
                         point=point.id, reason=reason)
        self.metrics.set(POINT_UP, 0, station=self.station, point=point.id)
        if point.metric is not None:
            self.metrics.remove(point.metric, **self._labels(point))
            if point.pump in self.derived_fault and point.spec.role == "fault_code":
                self.metrics.remove(FAULT, **self._labels(point))
        if log and not self._failed_points.get(point.id, False):
            self.log.warning("pump_point_failed", point=point.id, unit=point.unit,
                             reason=reason, detail=detail)
            self._failed_points[point.id] = True
        else:
            self._failed_points.setdefault(point.id, False)

    def _fail_read(self, read: Read, reason: str, *, log: bool = True,
                   detail: str = "") -> None:
        for point in read.points:
            self._fail_point(point, reason, log=log, detail=detail)

    def _fail_all(self) -> None:
        """The station is unreachable: withdraw every value, without a log line per point
        (the core logs the source failing once)."""
        for point in self.points:
            self._fail_point(point, "connection", log=False)
        for unit in self.units:
            self.metrics.set(DEVICE_UP, 0, station=self.station,
                             unit=unit)

    # -- per-station bookkeeping -----------------------------------------------------------

    def _count_request(self, read: Read, error: str | None, seconds: float | None = None
                       ) -> None:
        self.metrics.inc(MODBUS_REQUESTS, station=self.station,
                         function=read.function)
        if error is not None:
            self.metrics.inc(MODBUS_ERRORS, station=self.station,
                             unit=read.unit, reason=error)
        if seconds is not None:
            self.metrics.observe(MODBUS_REQUEST_DURATION,
                                 seconds, station=self.station)

    def _note_connects(self) -> None:
        new = self.conn.connects - self._connects_seen
        self._connects_seen = self.conn.connects
        self.metrics.inc(CONNECTS, new, station=self.station)

    def _update_units(self, answered: set[int], silent: dict[int, str]) -> None:
        for unit in self.units:
            up = unit in answered
            self.metrics.set(DEVICE_UP, 1 if up else 0,
                             station=self.station, unit=unit)
            if up and unit in self._down_units:
                self._down_units.discard(unit)
                self.log.info("pump_device_recovered", unit=unit)
            elif not up and unit not in self._down_units:
                self._down_units.add(unit)
                self.log.warning("pump_device_failing", unit=unit,
                                 reason=silent.get(unit, "exception"))

    def _update_device_info(self, strings: dict[int, dict[str, str]]) -> None:
        for unit, found in strings.items():
            info = (found.get("device_model", "unknown"), found.get("device_firmware", "unknown"))
            if self._device_info.get(unit) == info:
                continue
            self.metrics.remove_matching(DEVICE_INFO, station=self.station,
                                         unit=unit)
            self.metrics.info(DEVICE_INFO, station=self.station, unit=unit,
                              model=info[0], firmware=info[1])
            self._device_info[unit] = info

    def _write_info(self) -> None:
        info = self.config.station
        self.metrics.info(
            STATION_INFO,
            station=self.station,
            station_name=info.name or self.station,
            district=info.district,
            latitude="" if info.latitude is None else f"{info.latitude:.6f}",
            longitude="" if info.longitude is None else f"{info.longitude:.6f}",
            river=info.river,
        )
