"""One Modbus TCP connection per station, used one request at a time.

pymodbus' asyncio client does the framing; this wrapper owns the policy the plugin needs:
our own per-request deadline (so a hung gateway costs `request_timeout`, not pymodbus'
retry budget), no retries and no background reconnect task (the poll loop reconnects on the
next request, and the core's backoff spaces out polls of a dead station), the pause that
slow serial gateways need between requests, and a fresh connection after any timeout
because a late answer would otherwise be matched to the next request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

# pymodbus logs every failed attempt (with hex frame dumps) on "pymodbus.logging"; the plugin
# logs state transitions once instead. The core sets the parent "pymodbus" logger's level,
# so the child's own level is what keeps per-attempt lines out of the daemon's log.
logging.getLogger("pymodbus.logging").setLevel(logging.CRITICAL)

EXCEPTION_NAMES = {
    1: "illegal_function",
    2: "illegal_address",
    3: "illegal_value",
    4: "device_failure",
    5: "acknowledge",
    6: "device_busy",
    8: "memory_parity_error",
    10: "gateway_path_unavailable",
    11: "gateway_target_no_response",
}


class ModbusError(Exception):
    """A request that gave no data; `reason` is a low-cardinality label value."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class DeviceException(ModbusError):
    """The device answered with a Modbus exception: the connection itself is fine."""

    def __init__(self, code: int) -> None:
        name = EXCEPTION_NAMES.get(code, "other_exception")
        super().__init__(name, f"Modbus exception {code} ({name})")
        self.code = code


class NotConnected(ModbusError):
    pass


@dataclass
class RequestResult:
    values: list[int]
    seconds: float


class StationConnection:
    """The station's single TCP connection; `read()` is serialised by a lock."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout: float,
        request_timeout: float,
        pause: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.pause = pause
        self.connects = 0
        self._client: AsyncModbusTcpClient | None = None
        self._lock = asyncio.Lock()
        self._last_done = 0.0

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def ensure_connected(self) -> None:
        if self.connected:
            return
        self.close()
        client = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            # our deadlines (below and in _request) fire first; pymodbus' is a backstop
            timeout=max(self.connect_timeout, self.request_timeout) + 1.0,
            retries=0,
            reconnect_delay=0,
            reconnect_delay_max=0,
        )
        try:
            async with asyncio.timeout(self.connect_timeout):
                ok = await client.connect()
        except TimeoutError:
            ok = False
        if not ok:
            client.close()
            raise NotConnected("connection", f"cannot connect to {self.host}:{self.port}")
        self._client = client
        self.connects += 1

    async def read(self, function: str, unit: int, start: int, count: int) -> RequestResult:
        """One read request; raises `DeviceException` or `ModbusError` (timeout, connection)."""
        async with self._lock:
            if self.pause:
                wait = self._last_done + self.pause - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                reused = self.connected
                await self.ensure_connected()
                try:
                    return await self._request(function, unit, start, count)
                except ModbusError as exc:
                    # a kept-alive connection the peer dropped since the last poll: one
                    # retry on a fresh connection before calling the unit unreachable
                    if exc.reason != "connection" or not reused:
                        raise
                await self.ensure_connected()
                return await self._request(function, unit, start, count)
            finally:
                self._last_done = time.monotonic()

    async def _request(self, function: str, unit: int, start: int, count: int) -> RequestResult:
        client = self._client
        assert client is not None
        method = {
            "coil": client.read_coils,
            "discrete_input": client.read_discrete_inputs,
            "holding": client.read_holding_registers,
            "input": client.read_input_registers,
        }[function]
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.request_timeout):
                response = await method(start, count=count, device_id=unit)
        except TimeoutError:
            self.close()  # a late answer must not be taken for the next request's
            raise ModbusError("timeout", f"no answer within {self.request_timeout}s") from None
        except asyncio.CancelledError:
            self.close()  # the poll was cut short mid-request: same reason
            raise
        except ModbusException as exc:
            self.close()
            raise ModbusError("connection", f"{type(exc).__name__}") from None
        except OSError as exc:
            self.close()
            raise ModbusError("connection", f"{type(exc).__name__}") from None
        seconds = time.perf_counter() - started
        if response.isError():
            raise DeviceException(int(getattr(response, "exception_code", 0) or 0))
        if function in ("coil", "discrete_input"):
            bits = list(getattr(response, "bits", []) or [])
            values = [1 if b else 0 for b in bits[:count]]
        else:
            values = [int(v) for v in (getattr(response, "registers", []) or [])]
        if len(values) != count:
            self.close()
            raise ModbusError("short_response", f"asked {count}, got {len(values)}")
        return RequestResult(values, seconds)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
