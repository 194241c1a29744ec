"""The pump-house simulator: Modbus TCP servers with sump physics and an HTTP control API."""

from sitroom_pumps.simulator.config import PumpSimulatorConfig, SimPumpConfig, SimStationConfig
from sitroom_pumps.simulator.world import World, run_pump_simulator

__all__ = ["PumpSimulatorConfig", "SimPumpConfig", "SimStationConfig", "World",
           "run_pump_simulator"]
