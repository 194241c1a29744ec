"""Camera pictures and events over HTTP, for the console and for tools with a token.

`GET /api/v1/cameras/{name}/snapshot.jpg`: the newest frame in colour, at most 960 px wide
(`?zones=1` draws zones, lines and tracked objects; `?analysed=1` gives the small grey
picture the analysis saw; `?event=ID` the snapshot kept for that event: its object's best
frame with the box drawn). `GET /api/v1/cameras/{name}/events`: recent events as JSON, and
`.../events/{seq}.jpg` the picture of one. All need the `viewer` scope: a bearer token, or
a console session's cookie. Pictures come from memory and are encoded per request; nothing
is ever written to disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from sitroom.api import Route

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI
    from sitroom_cameras.source import CameraSource

NO_STORE = {"Cache-Control": "private, no-store"}


def camera_of(daemon: DaemonAPI, name: str) -> CameraSource | None:
    from sitroom_cameras.source import CameraSource

    source = daemon.source(name, kind="camera")
    return source if isinstance(source, CameraSource) else None


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "0").lower() in ("1", "true", "yes")


def routes(daemon: DaemonAPI) -> list[Route]:
    async def snapshot(request: web.Request) -> web.StreamResponse:
        source = camera_of(daemon, request.match_info["name"])
        if source is None:
            return web.json_response({"error": "no such camera"}, status=404)
        event_id = request.query.get("event")
        if event_id is not None:
            # an event's own snapshot: its object's best frame with the box drawn
            kept = source.event_snapshot(event_id)
            if kept is None:
                return web.json_response({"error": "no snapshot for that event"}, status=404)
            return web.Response(body=kept, content_type="image/jpeg", headers=NO_STORE)
        data = await source.snapshot_jpeg(zones=_flag(request, "zones"),
                                          colour=not _flag(request, "analysed"))
        if data is None:
            return web.json_response({"error": "no frame analysed yet"}, status=503)
        return web.Response(body=data, content_type="image/jpeg", headers=NO_STORE)

    async def events(request: web.Request) -> web.StreamResponse:
        source = camera_of(daemon, request.match_info["name"])
        if source is None:
            return web.json_response({"error": "no such camera"}, status=404)
        return web.json_response({"events": [e.as_dict() for e in source.events.events]})

    async def event_picture(request: web.Request) -> web.StreamResponse:
        source = camera_of(daemon, request.match_info["name"])
        seq = request.match_info["seq"]
        event = source.events.get(int(seq)) if source is not None and seq.isdigit() else None
        if event is None or event.picture is None:
            return web.json_response({"error": "no such event picture"}, status=404)
        return web.Response(body=event.picture, content_type="image/jpeg", headers=NO_STORE)

    return [
        Route("GET", "/api/v1/cameras/{name}/snapshot.jpg", snapshot, scope="viewer"),
        Route("GET", "/api/v1/cameras/{name}/events", events, scope="viewer"),
        Route("GET", "/api/v1/cameras/{name}/events/{seq}.jpg", event_picture, scope="viewer"),
    ]
