"""The simulated city: stations, their servers, the weather and the clock.

`World` is usable in-process (tests start it inside their event loop and talk to it over
real TCP) and is what `sitroom simulate pumps` and the demo daemon run.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sitroom_pumps.simulator.config import PumpSimulatorConfig
from sitroom_pumps.simulator.physics import StationState
from sitroom_pumps.simulator.registers import StationDevices
from sitroom_pumps.simulator.server import StationServer


@dataclass
class SimStation:
    state: StationState
    devices: StationDevices
    server: StationServer


class World:
    def __init__(self, config: PumpSimulatorConfig) -> None:
        self.config = config
        self.rain = config.rain
        self.sim_time = 0.0
        self.stations: dict[str, SimStation] = {}
        for index, cfg in enumerate(config.stations):
            state = StationState.create(cfg, seed=config.seed + index)
            devices = StationDevices(state)
            server = StationServer(config.host, cfg.port, devices)
            self.stations[cfg.id] = SimStation(state, devices, server)
        self._tick_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.control_port = config.control_port

    @property
    def control_url(self) -> str:
        return f"http://{self.config.host}:{self.control_port}"

    def port(self, station: str) -> int:
        return self.stations[station].server.port

    def refresh(self) -> None:
        for sim in self.stations.values():
            sim.devices.refresh()

    def step(self, dt: float) -> None:
        self.sim_time += dt
        rain = self.rain
        cfg = self.config
        if cfg.storm_every and self.sim_time % cfg.storm_every < cfg.storm_duration:
            rain = max(rain, cfg.storm_intensity)
        for sim in self.stations.values():
            sim.state.step(dt, rain, self.sim_time)
        self.refresh()

    def snapshot(self) -> dict[str, Any]:
        return {"sim_time_seconds": round(self.sim_time, 3), "rain_mm_per_hour": self.rain,
                "stations": {name: {**sim.state.as_dict(), "port": sim.server.port,
                                    "comms_up": sim.server.up}
                             for name, sim in self.stations.items()}}

    async def start(self) -> None:
        from sitroom_pumps.simulator.control import build_app

        try:
            for sim in self.stations.values():
                await sim.server.start()
            self._runner = web.AppRunner(build_app(self), access_log=None,
                                         handle_signals=False)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.config.host, self.control_port)
            await site.start()
            if self.control_port == 0:
                self.control_port = int(self._runner.addresses[0][1])
        except BaseException:
            await self.stop()
            raise
        self._tick_task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        tick = float(self.config.tick)
        while True:
            await asyncio.sleep(tick)
            self.step(tick * self.config.time_scale)

    async def stop(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._tick_task = None
        for sim in self.stations.values():
            await sim.server.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> World:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def run_pump_simulator(config: PumpSimulatorConfig) -> None:
    """Serve until cancelled (the SimulatorSpec entry point)."""
    async with World(config) as world:
        ports = ", ".join(f"{n}={s.server.port}" for n, s in world.stations.items())
        print(f"pump simulator: control {world.control_url}, modbus {ports}", flush=True)
        await asyncio.Event().wait()
