"""The simulator's HTTP control endpoint: how tests and demos make things happen.

Loopback only and unauthenticated, like the rest of the simulator: it exists to fault a
pump, cut a station's power, make it rain or take a station off the network, so that an
alert can be shown end to end. Every call answers with JSON; mistakes answer 400/404 with
an `error` message, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sitroom_pumps.simulator.registers import TABLES
from sitroom_pumps.simulator.world import World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _number(request: web.Request, name: str, default: float | None = None) -> float:
    raw = request.query.get(name)
    if raw is None:
        if default is None:
            raise BadRequest(f"missing query parameter {name!r}")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name!r} must be a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadRequest(f"{name!r} must be finite")
    return value


def _flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "")
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise BadRequest(f"{name!r} must be 0 or 1")


def build_app(world: World) -> web.Application:
    def station(request: web.Request) -> Any:
        name = request.query.get("station", "")
        if name not in world.stations:
            raise BadRequest(f"unknown station {name!r}; known: {', '.join(world.stations)}",
                             404)
        return world.stations[name]

    def wrap(func: Callable[[web.Request], Awaitable[Any]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                result = await func(request)
            except BadRequest as exc:
                return web.json_response({"error": str(exc)}, status=exc.status)
            return web.json_response(result)
        return handler

    async def state(request: web.Request) -> Any:
        return world.snapshot()

    async def fault(request: web.Request) -> Any:
        sim = station(request)
        name = request.query.get("pump", "")
        try:
            pump = sim.state.pump(name)
        except KeyError:
            raise BadRequest(f"unknown pump {name!r}", 404) from None
        code = _number(request, "code", 7.0)
        if not 0 <= code <= 65535 or code != int(code):
            raise BadRequest("'code' must be an integer 0..65535")
        pump.fault_code = int(code)
        world.refresh()
        return pump.as_dict()

    async def power(request: web.Request) -> Any:
        sim = station(request)
        sim.state.mains = _flag(request, "available")
        world.refresh()
        return sim.state.as_dict()

    async def rain(request: web.Request) -> Any:
        value = _number(request, "mm_per_hour")
        if not 0 <= value <= 500:
            raise BadRequest("'mm_per_hour' must be within 0..500")
        if "station" in request.query:
            station(request).state.rain_override = value
        else:
            world.rain = value
        return {"rain_mm_per_hour": world.rain}

    async def level(request: web.Request) -> Any:
        sim = station(request)
        value = _number(request, "meters")
        if not 0 <= value <= sim.state.cfg.sump_depth:
            raise BadRequest(f"'meters' must be within 0..{sim.state.cfg.sump_depth}")
        sim.state.level = value
        world.refresh()
        return sim.state.as_dict()

    async def comms(request: web.Request) -> Any:
        sim = station(request)
        if _flag(request, "up"):
            await sim.server.start()
        else:
            await sim.server.stop()
        return {"station": sim.state.cfg.id, "up": sim.server.up, "port": sim.server.port}

    async def delay(request: web.Request) -> Any:
        sim = station(request)
        value = _number(request, "seconds")
        if not 0 <= value <= 600:
            raise BadRequest("'seconds' must be within 0..600")
        sim.devices.delay = value
        return {"station": sim.state.cfg.id, "delay_seconds": value}

    async def poke(request: web.Request) -> Any:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest("body must be JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object")
        name = body.get("station")
        if name not in world.stations:
            raise BadRequest(f"unknown station {name!r}", 404)
        devices = world.stations[name].devices
        unit, table = body.get("unit", 1), body.get("table")
        address, values = body.get("address"), body.get("values")
        if unit not in devices.units:
            raise BadRequest(f"unknown unit {unit!r}", 404)
        if table not in TABLES:
            raise BadRequest(f"'table' must be one of {', '.join(TABLES)}")
        if not isinstance(address, int) or not isinstance(values, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise BadRequest("'address' must be an integer and 'values' a list of integers")
        try:
            devices.units[unit].put(table, address, values)
        except IndexError as exc:
            raise BadRequest(str(exc)) from None
        return {"written": len(values)}

    async def stats(request: web.Request) -> Any:
        return {name: {"requests": dict(sim.devices.requests),
                       "requests_total": sum(sim.devices.requests.values()),
                       "up": sim.server.up, "port": sim.server.port}
                for name, sim in world.stations.items()}

    app = web.Application()
    app.router.add_get("/state", wrap(state))
    app.router.add_get("/stats", wrap(stats))
    for path, func in (("/fault", fault), ("/power", power), ("/rain", rain),
                       ("/level", level), ("/comms", comms), ("/delay", delay),
                       ("/poke", poke)):
        app.router.add_post(path, wrap(func))
    return app
