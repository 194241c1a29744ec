"""`GET /api/v1/cameras/{name}/snapshot.jpg`: the latest analysed frame, for operators.

Images need the bearer token (the route keeps the default `auth=True`). The frame comes from
memory and is encoded per request; nothing is ever written to disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from sitroom.api import Route

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI


def snapshot_route(daemon: DaemonAPI) -> Route:
    async def snapshot(request: web.Request) -> web.StreamResponse:
        from sitroom_cameras.source import CameraSource

        name = request.match_info["name"]
        source = daemon.source(name, kind="camera")
        if not isinstance(source, CameraSource):
            return web.json_response({"error": "no such camera"}, status=404)
        zones = request.query.get("zones", "0").lower() in ("1", "true", "yes")
        data = await source.snapshot_jpeg(zones=zones)
        if data is None:
            return web.json_response({"error": "no frame analysed yet"}, status=503)
        return web.Response(body=data, content_type="image/jpeg",
                            headers={"Cache-Control": "no-store"})

    return Route("GET", "/api/v1/cameras/{name}/snapshot.jpg", snapshot)
