"""A stand-in for Grafana's HTTP API on 127.0.0.1, strict about what the docs require.

No Grafana server can be installed here (it has no Debian package in our registries and
nothing may be downloaded), so `sitroom grafana push` is tested against this aiohttp app,
which checks requests the way Grafana's API documents them:
- every call needs `Authorization: Bearer <service account token>` (401 otherwise);
- `GET /api/folders/:uid` (404 when absent), `POST /api/folders` with `{title, uid}`
  (409 when the uid exists);
- `GET /api/dashboards/uid/:uid` -> `{dashboard, meta: {folderUid, version}}` (404 absent);
- `POST /api/dashboards/db` with `{dashboard, folderUid, overwrite, message}`: the dashboard
  needs a title, its `id` must be null/absent to create by uid, the folder must exist, and
  without `overwrite` a uid that exists is a 412 "version-mismatch".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeGrafana:
    token: str
    url: str = ""
    folders: dict[str, str] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/api/folders/{uid}", self.get_folder)
        app.router.add_post("/api/folders", self.create_folder)
        app.router.add_get("/api/dashboards/uid/{uid}", self.get_dashboard)
        app.router.add_post("/api/dashboards/db", self.save_dashboard)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"message": "Unauthorized"}, status=401)
        if request.method == "POST" and request.content_type != "application/json":
            return web.json_response({"message": "bad content type"}, status=415)
        return await handler(request)

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(text='{"message": "bad json"}',
                                     content_type="application/json") from None
        self.bodies.append(body)
        return body

    async def get_folder(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        if uid not in self.folders:
            return web.json_response({"message": "folder not found"}, status=404)
        return web.json_response({"uid": uid, "title": self.folders[uid], "id": 1})

    async def create_folder(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if not isinstance(body.get("title"), str) or not body["title"]:
            return web.json_response({"message": "folder title cannot be empty"}, status=400)
        uid = body.get("uid") or "generated"
        if uid in self.folders:
            return web.json_response({"message": "a folder with that uid exists"}, status=409)
        self.folders[uid] = body["title"]
        return web.json_response({"uid": uid, "title": body["title"], "id": len(self.folders)})

    async def get_dashboard(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        if uid not in self.dashboards:
            return web.json_response({"message": "Dashboard not found"}, status=404)
        stored = self.dashboards[uid]
        return web.json_response({"dashboard": stored["dashboard"],
                                  "meta": {"folderUid": stored["folderUid"],
                                           "version": stored["dashboard"]["version"]}})

    async def save_dashboard(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        board = body.get("dashboard")
        if not isinstance(board, dict) or not board.get("title"):
            return web.json_response({"message": "Dashboard title cannot be empty"}, status=400)
        if board.get("id") is not None:
            return web.json_response({"message": "Dashboard not found"}, status=404)
        folder = body.get("folderUid")
        if folder not in self.folders:
            return web.json_response({"message": "folder not found"}, status=400)
        if not isinstance(body.get("overwrite", False), bool):
            return web.json_response({"message": "overwrite must be a boolean"}, status=400)
        uid = board["uid"]
        existing = self.dashboards.get(uid)
        if existing and not body.get("overwrite"):
            return web.json_response({"message": "version-mismatch",
                                      "status": "version-mismatch"}, status=412)
        version = existing["dashboard"]["version"] + 1 if existing else 1
        saved = {**board, "id": 7, "version": version}
        self.dashboards[uid] = {"dashboard": saved, "folderUid": folder}
        return web.json_response({"id": 7, "uid": uid, "url": f"/d/{uid}/x",
                                  "status": "success", "version": version, "slug": "x"})
