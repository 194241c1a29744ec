"""The console's camera pages: the wall, one camera's page, the events list.

They live in the camera plugin because they show what only it holds (the newest colour
frame, health, the events with their pictures); the core lends layout, login and scopes.
Every page needs the `viewer` scope.

`recent_events` is the one place the pages read events from: today the camera sources'
in-memory logs; when the core gains an event path, only this function changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sitroom.api import Route, render_page
from sitroom_cameras.routes import camera_of

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI
    from sitroom_cameras.source import CameraSource

WALL_REFRESH_SECONDS = 5
HEALTH_FILTERS = ("live", "stale")


def cameras(daemon: DaemonAPI) -> list[CameraSource]:
    from sitroom_cameras.source import CameraSource

    found = [s for s in daemon.sources(kind="camera") if isinstance(s, CameraSource)]
    return sorted(found, key=lambda s: (s.config.district or "", s.config.name))


def recent_events(daemon: DaemonAPI, camera: str | None = None, limit: int = 200
                  ) -> list[dict[str, Any]]:
    """Events newest first: what fired, when, which camera, whether a picture is kept."""
    rows = []
    for source in cameras(daemon):
        if camera is not None and source.config.name != camera:
            continue
        for event in source.events.events:
            rows.append({**event.as_dict(), "camera": source.config.name,
                         "district": source.config.district})
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows[:limit]


def routes(daemon: DaemonAPI) -> list[Route]:
    async def wall(request: web.Request) -> web.StreamResponse:
        district = request.query.get("district") or None
        health = request.query.get("status") or None
        tiles = []
        all_cameras = cameras(daemon)
        for source in all_cameras:
            info = source.health()
            state = "live" if info["live"] else "stale"
            if district and source.config.district != district:
                continue
            if health in HEALTH_FILTERS and state != health:
                continue
            tiles.append({"name": source.config.name, "state": state, **info})
        districts = sorted({s.config.district for s in all_cameras if s.config.district})
        return render_page(request, "cameras/wall.html", {
            "tiles": tiles, "districts": districts, "district": district, "status": health,
            "refresh": WALL_REFRESH_SECONDS,
        })

    async def camera_page(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        source = camera_of(daemon, name)
        if source is None:
            raise web.HTTPNotFound(text="no such camera (only running cameras have a page)\n")
        return render_page(request, "cameras/camera.html", {
            "name": name, "health": source.health(), "events": recent_events(daemon, name, 20),
            "refresh": WALL_REFRESH_SECONDS,
        })

    async def events(request: web.Request) -> web.StreamResponse:
        camera = request.query.get("camera") or None
        return render_page(request, "cameras/events.html", {
            "events": recent_events(daemon, camera), "camera": camera,
        })

    return [
        Route("GET", "/console/wall", wall, scope="viewer", page=True,
              nav=("Dinding kamera", "Camera wall")),
        Route("GET", "/console/cameras/{name}", camera_page, scope="viewer", page=True),
        Route("GET", "/console/events", events, scope="viewer", page=True,
              nav=("Peristiwa", "Events")),
    ]
