"""`GET /api/v1/weather/{source}`: the last readings of one source, as JSON."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from sitroom.api import DaemonAPI, Route


# --8<-- [start:route]
def weather_route(daemon: DaemonAPI) -> Route:
    from sitroom_weather.source import WeatherStation

    async def latest(request: web.Request) -> web.Response:
        source = daemon.source(request.match_info["source"], kind="weather_station")
        if not isinstance(source, WeatherStation):
            return web.json_response({"error": "no such weather source"}, status=404)
        readings = [asdict(r) for r in source.latest.values()]
        return web.json_response({"source": source.config.name, "readings": readings})

    return Route("GET", "/api/v1/weather/{source}", latest)  # bearer token required
# --8<-- [end:route]
