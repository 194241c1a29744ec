"""One real pymodbus TCP server per simulated station, that can be taken down and back up.

A station's endpoint going dark (gateway power cut, fibre cut) is one of the failures the
situation room must show, so the control API can stop a station's listener, dropping its
open connections, and start it again on the same port.
"""

from __future__ import annotations

import contextlib
import logging

from pymodbus.server import ModbusTcpServer

from sitroom_pumps.simulator.registers import SimulatorContext, StationDevices

# A delayed answer to a client that gave up makes pymodbus log an error per request; for a
# simulator whose job is to be slow on demand that is noise (see connection.py likewise).
logging.getLogger("pymodbus.logging").setLevel(logging.CRITICAL)


class StationServer:
    def __init__(self, host: str, port: int, devices: StationDevices) -> None:
        self.host = host
        self.port = port
        self.devices = devices
        self._server: ModbusTcpServer | None = None

    @property
    def up(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        server = ModbusTcpServer(SimulatorContext(self.devices), address=(self.host, self.port))
        await server.serve_forever(background=True)
        if self.port == 0:  # bound to any free port: learn which
            sockets = getattr(server.transport, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])
        self._server = server

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                await server.shutdown()
