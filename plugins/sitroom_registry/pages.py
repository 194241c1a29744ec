"""The registry's pages: the public registration form and status page, the approval queue.

They live in the plugin (served through `sitroom_routes` as `Route(page=True)`) because
they are the registry's own face: the same `RegistrySource` calls as the JSON API, the
same models (`RegistrationIn` validates the form: no second validator), the same rate
limits. The core lends the layout, login, sessions and CSRF through `sitroom.api`.

A form post is turned into the API's JSON shape (`form_to_request`), and the API's field
errors (`stream.url`, `latitude`, ...) are mapped back onto the form's inputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sitroom.api import Route, check_csrf, principal_of, render_page, retry_after, tr
from sitroom_registry import metrics as rm
from sitroom_registry.api import MAX_REASON, actor_of, public_status, registry_of
from sitroom_registry.lifecycle import ADMIN_ACTIONS, TRANSITIONS, TransitionError
from sitroom_registry.messages import field_message
from sitroom_registry.models import DISTRICTS, OWNER_TYPES, InvalidRequest
from sitroom_registry.ratelimit import client_address
from sitroom_registry.source import REG_ID, RegistryBusy, RegistrySource, RegistryUnavailable
from sitroom_registry.store import NotFound

if TYPE_CHECKING:
    from multidict import MultiDictProxy

    from sitroom.api import DaemonAPI

# form input name -> the API field it fills
TEXT_FIELDS = ("owner_name", "contact_phone", "contact_email", "owner_type", "address",
               "district", "location_name", "latitude", "longitude")
QUEUE = ("awaiting_approval", "probe_failed", "pending", "probing")


def form_to_request(form: MultiDictProxy[Any]) -> dict[str, Any]:
    """The registration form as the API's JSON body; blank optional inputs are left out."""
    data: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = str(form.get(name, "")).strip()
        if value:
            data[name] = value
    stream: dict[str, Any] = {"url": str(form.get("stream_url", "")).strip() or None}
    for name in ("username", "password"):
        value = str(form.get(f"stream_{name}", ""))
        if value:
            stream[name] = value
    if stream["url"] is None:
        del stream["url"]
    data["stream"] = stream
    data["consent"] = form.get("consent") == "yes"
    return data


def input_of(field: str) -> str:
    """The form input an API error belongs beside (`stream.url` -> `stream_url`)."""
    if field in ("stream.username", "stream.password"):
        return field.replace(".", "_")
    if field.startswith("stream"):
        return "stream_url"
    return field if field in TEXT_FIELDS or field == "consent" else "form"


def routes(daemon: DaemonAPI) -> list[Route]:
    def source_for(request: web.Request) -> RegistrySource:
        return registry_of(daemon, request)

    def limited(request: web.Request, source: RegistrySource, register: bool) -> float:
        limiter = source.register_limiter if register else source.status_limiter
        return limiter.take(client_address(request, source.trusted_proxies))

    def too_many(request: web.Request, wait: float) -> web.Response:
        response = render_page(request, "registry/message.html", {
            "title": tr(request, "Terlalu banyak permintaan", "Too many requests"),
            "message": tr(request, "Coba lagi sebentar lagi.", "Please try again shortly."),
        }, status=429)
        response.headers["Retry-After"] = retry_after(wait)
        return response

    def form_page(request: web.Request, source: RegistrySource, values: dict[str, str],
                  errors: dict[str, list[str]], status: int = 200) -> web.Response:
        bbox = source.config.bbox
        return render_page(request, "registry/home.html", {
            "values": values, "errors": errors, "district_options": [(d, d) for d in DISTRICTS],
            "owner_types": OWNER_TYPES, "bbox": bbox,
            "centre": ((bbox.lat_min + bbox.lat_max) / 2, (bbox.lon_min + bbox.lon_max) / 2),
        }, status=status)

    async def home(request: web.Request) -> web.StreamResponse:
        source = source_for(request)
        if wait := limited(request, source, register=False):
            return too_many(request, wait)
        return form_page(request, source, {}, {})

    async def submit(request: web.Request) -> web.StreamResponse:
        source = source_for(request)
        form = await request.post()
        check_csrf(request, form)
        if wait := limited(request, source, register=True):
            source.metrics.inc(rm.REQUESTS, endpoint="register", result="rate_limited")
            return too_many(request, wait)
        values = {k: str(form.get(k, "")) for k in (*TEXT_FIELDS, "stream_url", "stream_username")}
        values["consent"] = str(form.get("consent", ""))
        try:
            row = await source.register(form_to_request(form), actor="form")
        except InvalidRequest as exc:
            source.metrics.inc(rm.REQUESTS, endpoint="register", result="invalid")
            errors: dict[str, list[str]] = {}
            for error in exc.errors:
                errors.setdefault(input_of(error.field), []).append(
                    field_message(request, error.message))
            return form_page(request, source, values, errors, status=422)
        except RegistryBusy as exc:
            response = render_page(request, "registry/message.html", {
                "title": tr(request, "Antrian penuh", "Queue full"),
                "message": tr(request, "Terlalu banyak kamera menunggu diperiksa. Coba lagi "
                              "nanti.", "Too many cameras wait to be checked. Try later."),
            }, status=503)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        source.metrics.inc(rm.REQUESTS, endpoint="register", result="accepted")
        raise web.HTTPSeeOther(f"/status/{row['id']}?new=1")

    async def status_page(request: web.Request) -> web.StreamResponse:
        source = source_for(request)
        if wait := limited(request, source, register=False):
            return too_many(request, wait)
        reg_id = request.match_info["id"]
        row = None
        if REG_ID.match(reg_id):
            try:
                row = public_status(await source.get(reg_id))
            except NotFound:
                row = None
        source.metrics.inc(rm.REQUESTS, endpoint="status",
                           result="found" if row else "not_found")
        return render_page(request, "registry/status.html",
                           {"row": row, "new": request.query.get("new") == "1"},
                           status=200 if row else 404)

    async def privacy(request: web.Request) -> web.StreamResponse:
        return render_page(request, "registry/privacy.html", {})

    async def queue(request: web.Request) -> web.StreamResponse:
        source = source_for(request)
        rows = await source.list(QUEUE)
        recent = [r for r in await source.list(("active", "suspended"))][-20:]
        audits = {row["id"]: await source.audit(row["id"]) for row in rows + recent}
        principal = principal_of(request)
        return render_page(request, "registry/queue.html", {
            "rows": rows, "recent": recent, "audits": audits,
            "may_act": principal is not None and principal.allows("operator"),
            "allowed": {row["id"]: [a for a in ADMIN_ACTIONS
                                    if row["status"] in TRANSITIONS[a][0]]
                        for row in rows + recent},
            "probe_frames": source.probe_frames, "max_reason": MAX_REASON,
            "done": request.query.get("done"),
        })

    async def act(request: web.Request) -> web.StreamResponse:
        source = source_for(request)
        form = await request.post()  # the core checked scope and CSRF already
        action = request.match_info["action"]
        if action not in ADMIN_ACTIONS:
            raise web.HTTPNotFound()
        reason = " ".join(str(form.get("reason", "")).split())[:MAX_REASON] or None
        try:
            reg_id = await source.resolve(request.match_info["name"])
            await source.act(reg_id, action, actor_of(request), reason)
        except NotFound:
            raise web.HTTPNotFound() from None
        except TransitionError as exc:
            return render_page(request, "registry/message.html", {
                "title": tr(request, "Tidak bisa", "Not possible"), "message": str(exc),
            }, status=409)
        except RegistryUnavailable:
            raise web.HTTPServiceUnavailable(headers={"Retry-After": "2"}) from None
        raise web.HTTPSeeOther(f"/console?done={action}")

    async def probe_frame(request: web.Request) -> web.StreamResponse:
        source = source_for(request)
        try:
            reg_id = await source.resolve(request.match_info["name"])
        except NotFound:
            raise web.HTTPNotFound() from None
        frame = source.probe_frames.get(reg_id)
        if frame is None:
            raise web.HTTPNotFound(text="no probe frame kept (reprobe to see one)\n")
        return web.Response(body=frame, content_type="image/jpeg",
                            headers={"Cache-Control": "private, no-store"})

    return [
        Route("GET", "/", home, auth=False, page=True,
              nav=("Daftarkan kamera", "Register a camera")),
        Route("POST", "/", submit, auth=False, page=True),
        Route("GET", "/status/{id}", status_page, auth=False, page=True),
        Route("GET", "/privasi", privacy, auth=False, page=True, nav=("Privasi", "Privacy")),
        Route("GET", "/console", queue, scope="viewer", page=True,
              nav=("Antrian persetujuan", "Approval queue")),
        Route("POST", "/console/cameras/{name}/{action}", act, scope="operator", page=True),
        Route("GET", "/console/cameras/{name}/probe.jpg", probe_frame, scope="viewer",
              page=True),
    ]
