"""The simulated devices' register tables, their fixed layout, and the pymodbus datastore.

The layout is the simulated firmware: fixed in code like a real PLC's, and described, not
derived, by the profiles in conf.d/profiles/. An integration test polls the simulator with
those profiles and compares with the simulator's own state, so layout and profile cannot
drift apart silently. Addresses 1000..3999 of every table are never touched by the physics:
tests write their own values there.
"""

from __future__ import annotations

import asyncio
from array import array
from collections import Counter
from collections.abc import Sequence

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext

from sitroom_pumps.datatypes import encode
from sitroom_pumps.simulator.physics import StationState

TABLE_SIZE = 4096
SCRATCH_START = 1000
TABLES = ("coil", "discrete_input", "holding", "input")
_READ_FC = {1: "coil", 2: "discrete_input", 3: "holding", 4: "input"}
_WRITE_FC = {5: "coil", 15: "coil", 6: "holding", 16: "holding", 22: "holding", 23: "holding"}

PLC_MODEL = "SIM-PLC PH-200"
PLC_FIRMWARE = "2.4.1"


class Unit:
    """One Modbus unit id: four tables of `size` entries (TABLE_SIZE for the simulated
    firmware; vendor devices in tests may need more, an Altivar's fault code is at 8606)."""

    def __init__(self, size: int = TABLE_SIZE) -> None:
        self.size = size
        self.tables: dict[str, array[int]] = {
            "coil": array("B", bytes(size)),
            "discrete_input": array("B", bytes(size)),
            "holding": array("H", bytes(2 * size)),
            "input": array("H", bytes(2 * size)),
        }

    def put(self, table: str, address: int, values: Sequence[int]) -> None:
        target = self.tables[table]
        if address < 0 or address + len(values) > self.size:
            raise IndexError(f"{table} {address}+{len(values)} outside 0..{self.size - 1}")
        limit = 1 if table in ("coil", "discrete_input") else 0xFFFF
        for offset, value in enumerate(values):
            target[address + offset] = max(0, min(limit, int(value)))


class StationDevices:
    """The units one station's endpoint answers for, plus request counters and a delay."""

    def __init__(self, state: StationState) -> None:
        self.state = state
        self.units: dict[int, Unit] = {state.cfg.plc_unit: Unit()}
        self.vsd_units: dict[str, int] = {}
        vsd_index = 0
        for pump in state.pumps:
            if pump.cfg.drive == "vsd":
                unit = state.cfg.vsd_unit_base + vsd_index
                self.units[unit] = Unit()
                self.vsd_units[pump.cfg.name] = unit
                vsd_index += 1
        self.delay = 0.0
        self.requests: Counter[str] = Counter()
        self.refresh()

    def refresh(self) -> None:
        """Write the physics state into the registers, as the PLC's scan cycle would."""
        state = self.state
        plc = self.units[state.cfg.plc_unit]
        status = (1 if state.mains else 0) | (2 if state.genset_running else 0) | (
            4 if state.level >= state.cfg.sump_depth * 0.9 else 0)
        plc.put("holding", 0, encode(state.level * 100, "u16"))
        plc.put("holding", 1, encode(state.river * 100, "i16"))
        plc.put("holding", 2, [status])
        plc.put("holding", 3, encode(state.fuel * 1000, "u16"))
        plc.put("discrete_input", 0, [int(state.mains), int(state.genset_running)])
        plc.put("holding", 100, encode(PLC_MODEL, "string", length=8))
        plc.put("holding", 108, encode(PLC_FIRMWARE, "string", length=4))
        fixed = [p for p in state.pumps if p.cfg.drive == "fixed"]
        for index, pump in enumerate(fixed):
            base = 10 + 10 * index
            word = (1 if pump.running else 0) | (2 if pump.fault_code else 0) | 4
            plc.put("holding", base, [word, pump.fault_code])
            plc.put("holding", base + 2, encode(pump.current * 10, "u16"))
            plc.put("holding", base + 4, encode(pump.flow * 1000, "f32", word_order="little"))
            plc.put("holding", base + 6, encode(pump.run_seconds, "u32"))
            plc.put("holding", base + 8, encode(pump.starts, "u16"))
        for pump in state.pumps:
            unit_id = self.vsd_units.get(pump.cfg.name)
            if unit_id is None:
                continue
            drive = self.units[unit_id]
            word = 1 | (2 if pump.running else 0) | (8 if pump.fault_code else 0)
            drive.put("input", 0, [word])
            drive.put("input", 1, encode(pump.speed_hz * 100, "u16"))
            drive.put("input", 2, encode(pump.current * 100, "u16"))
            drive.put("input", 3, [pump.fault_code])
            drive.put("input", 4, encode(pump.run_seconds / 60, "u32", word_order="little"))
            drive.put("input", 6, encode(pump.starts, "u32", word_order="little"))
            drive.put("input", 8, encode(pump.flow * 3600, "f32"))


class SimulatorContext(ModbusServerContext):
    """A pymodbus datastore that serves a station's units straight from their tables.

    Subclassing the server context (and skipping its constructor) is how a datastore with
    custom behaviour plugs into pymodbus 3.x: we need a per-request delay, request counts
    and gateway-style exceptions for unknown units, which the stock blocks cannot give.
    """

    def __init__(self, devices: StationDevices) -> None:
        self.devices = devices
        self.old_simulator = True
        self.simdevices = []
        self._devices = {}

    def device_ids(self) -> list[int]:
        return list(self.devices.units)

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        table = _READ_FC.get(func_code) or _WRITE_FC.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if func_code in _READ_FC:
            self.devices.requests[table] += 1
        if self.devices.delay:
            await asyncio.sleep(self.devices.delay)
        unit = self.devices.units.get(device_id)
        if unit is None:
            return ExcCodes.GATEWAY_NO_RESPONSE
        if address < 0 or count < 1 or address + count > unit.size:
            return ExcCodes.ILLEGAL_ADDRESS
        values = unit.tables[table][address : address + count]
        if table in ("coil", "discrete_input"):
            return [bool(v) for v in values]
        return list(values)

    async def async_setValues(
        self, device_id: int, func_code: int, address: int,
        values: Sequence[int] | Sequence[bool],
    ) -> ExcCodes | None:
        table = _WRITE_FC.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        unit = self.devices.units.get(device_id)
        if unit is None:
            return ExcCodes.GATEWAY_NO_RESPONSE
        if address < 0 or address + len(values) > unit.size:
            return ExcCodes.ILLEGAL_ADDRESS
        unit.put(table, address, [int(v) for v in values])
        return None
