"""HTTP routes: the public registration form and status page, the admin API, Prometheus SD.

Handlers translate HTTP to `RegistrySource` calls and exceptions to status codes; all state
and policy live in the source. Errors are JSON: `{"error": ..., "errors": [{field, message}]}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sitroom.api import BodyTooLarge, Route, principal_of, read_request_bounded
from sitroom_registry import metrics as rm
from sitroom_registry.lifecycle import ADMIN_ACTIONS, TransitionError, parse_status_filter
from sitroom_registry.models import InvalidRequest
from sitroom_registry.ratelimit import client_address, retry_after
from sitroom_registry.source import RegistryBusy, RegistrySource, RegistryUnavailable
from sitroom_registry.store import NotFound

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI

KIND = "camera_registry"
MAX_BODY = 16 * 1024  # a registration is a few hundred bytes; refuse floods of megabytes
_ACTOR = re.compile(r"^[A-Za-z0-9@._:-]{1,64}$")
_ID = re.compile(r"^[0-9a-f]{16}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_REASON = 500


def json_error(
    status: int,
    message: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return web.json_response(body, status=status, headers=headers)


def actor_of(request: web.Request) -> str:
    """Who to write in the audit log: the console user, or whom a token's holder names.

    A token holder (a script, a proxy) may name the person it acts for in X-Sitroom-Actor;
    that is self-declared, so the audit log is as trustworthy as the token holders. Without
    the header the token's configured name is written.
    """
    principal = principal_of(request)
    if principal is not None and principal.via == "session":
        return principal.name
    actor = request.headers.get("X-Sitroom-Actor", "").strip()
    if _ACTOR.match(actor):
        return actor
    return principal.name if principal is not None else "api"


def public_status(row: dict[str, Any]) -> dict[str, Any]:
    """What the citizen's status page shows: no contact, no address, no stream."""
    return {
        "id": row["id"],
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "probe_result": row["probe_result"],
        "probed_at": row["probed_at"],
    }


def status_url(row: dict[str, Any]) -> str:
    return f"/api/v1/registrations/{row['id']}"


PUBLIC_ENDPOINTS = {"register": "register", "registration_status": "status"}
"""Handlers whose outcomes `sitroom_registry_requests_total` counts, by endpoint label."""

Handler = Callable[[web.Request, RegistrySource], Awaitable[web.StreamResponse]]


def registry_of(daemon: DaemonAPI, request: web.Request) -> RegistrySource:
    """The registry a request means: `?registry=NAME`, or the only one configured."""
    name = request.query.get("registry")
    if name:
        found = daemon.source(name, kind=KIND)
        if not isinstance(found, RegistrySource):
            raise web.HTTPNotFound(
                text=json.dumps({"error": f"no camera registry named {name!r}"}),
                content_type="application/json",
            )
        return found
    candidates = [s for s in daemon.sources(kind=KIND) if isinstance(s, RegistrySource)]
    if len(candidates) == 1:
        return candidates[0]
    message = (
        "no camera registry is configured"
        if not candidates
        else ("several camera registries are configured: add ?registry=NAME")
    )
    status = web.HTTPServiceUnavailable if not candidates else web.HTTPBadRequest
    raise status(text=json.dumps({"error": message}), content_type="application/json")


def routes(daemon: DaemonAPI) -> list[Route]:
    def registry(request: web.Request) -> RegistrySource:
        return registry_of(daemon, request)

    def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            source = registry(request)
            try:
                return await handler(request, source)
            except RegistryBusy as exc:
                return json_error(
                    503,
                    "too many registrations are waiting to be checked, try later",
                    headers={"Retry-After": str(exc.retry_after)},
                )
            except RegistryUnavailable:
                return json_error(
                    503, "the registry is starting, try again", headers={"Retry-After": "2"}
                )
            except InvalidRequest as exc:
                return json_error(422, "validation failed", [e.as_dict() for e in exc.errors])
            except NotFound:
                return json_error(404, "no such registration")
            except TransitionError as exc:
                return json_error(409, str(exc))
            except web.HTTPException:
                raise
            except Exception:
                endpoint = PUBLIC_ENDPOINTS.get(handler.__name__)
                if endpoint is not None:
                    source.metrics.inc(rm.REQUESTS, endpoint=endpoint, result="internal")
                raise  # the core counts it, logs it once without the payload, answers 500

        return wrapped

    return [
        Route("POST", "/api/v1/registrations", wrap(register), auth=False),
        Route("GET", "/api/v1/registrations/{id}", wrap(registration_status), auth=False),
        Route("GET", "/api/v1/cameras", wrap(list_cameras), scope="operator"),
        Route("GET", "/api/v1/cameras/{name}", wrap(get_camera), scope="operator"),
        Route("PATCH", "/api/v1/cameras/{name}", wrap(edit_camera), scope="operator"),
        Route("GET", "/api/v1/cameras/{name}/audit", wrap(camera_audit), scope="operator"),
        Route("POST", "/api/v1/cameras/{name}/{action}", wrap(camera_action), scope="operator"),
        Route("GET", "/api/v1/sd/cameras", wrap(service_discovery), scope="viewer"),
    ]


async def read_json(request: web.Request) -> Any:
    """The body as JSON, at most MAX_BODY bytes; errors are field-style like validation."""
    try:
        body = await read_request_bounded(request, MAX_BODY)
    except BodyTooLarge:
        raise _TooLarge() from None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        # RecursionError: "[[[[..." thousands deep is hostile, not a 500
        raise _Malformed() from None


class _TooLarge(Exception):
    pass


class _Malformed(Exception):
    pass


def _body_error(exc: Exception) -> web.Response:
    if isinstance(exc, _TooLarge):
        return json_error(413, f"request body larger than {MAX_BODY} bytes")
    return json_error(
        400,
        "request body is not valid JSON",
        [{"field": "(body)", "message": "must be a JSON object"}],
    )


async def register(request: web.Request, source: RegistrySource) -> web.StreamResponse:
    wait = source.register_limiter.take(client_address(request, source.trusted_proxies))
    if wait:
        source.metrics.inc(rm.REQUESTS, endpoint="register", result="rate_limited")
        return json_error(
            429,
            "too many registrations from this address, try later",
            headers={"Retry-After": retry_after(wait)},
        )
    try:
        data = await read_json(request)
    except (_TooLarge, _Malformed) as exc:
        result = "too_large" if isinstance(exc, _TooLarge) else "malformed"
        source.metrics.inc(rm.REQUESTS, endpoint="register", result=result)
        return _body_error(exc)
    try:
        row = await source.register(data)
    except InvalidRequest:
        source.metrics.inc(rm.REQUESTS, endpoint="register", result="invalid")
        raise
    source.metrics.inc(rm.REQUESTS, endpoint="register", result="accepted")
    url = status_url(row)
    return web.json_response(
        {"id": row["id"], "status": row["status"], "status_url": url},
        status=201,
        headers={"Location": url},
    )


async def registration_status(request: web.Request, source: RegistrySource) -> web.StreamResponse:
    wait = source.status_limiter.take(client_address(request, source.trusted_proxies))
    if wait:
        source.metrics.inc(rm.REQUESTS, endpoint="status", result="rate_limited")
        return json_error(
            429, "too many requests, try later", headers={"Retry-After": retry_after(wait)}
        )
    reg_id = request.match_info["id"]
    if not _ID.match(reg_id):
        source.metrics.inc(rm.REQUESTS, endpoint="status", result="not_found")
        return json_error(404, "no such registration")
    try:
        row = await source.get(reg_id)
    except NotFound:
        source.metrics.inc(rm.REQUESTS, endpoint="status", result="not_found")
        raise
    source.metrics.inc(rm.REQUESTS, endpoint="status", result="found")
    return web.json_response(public_status(row))


async def list_cameras(request: web.Request, source: RegistrySource) -> web.StreamResponse:
    status = request.query.get("status")
    statuses = None
    if status is not None:
        try:
            statuses = parse_status_filter(status)
        except ValueError as exc:
            return json_error(400, str(exc))
    rows = await source.list(statuses, request.query.get("district"))
    return web.json_response({"cameras": rows})


async def get_camera(request: web.Request, source: RegistrySource) -> web.StreamResponse:
    return web.json_response(await source.get(await source.resolve(request.match_info["name"])))


async def camera_audit(request: web.Request, source: RegistrySource) -> web.StreamResponse:
    reg_id = await source.resolve(request.match_info["name"])
    return web.json_response({"audit": await source.audit(reg_id)})


async def camera_action(request: web.Request, source: RegistrySource) -> web.StreamResponse:
    action = request.match_info["action"]
    if action not in ADMIN_ACTIONS:
        return json_error(404, f"unknown action; use one of {', '.join(ADMIN_ACTIONS)}")
    reg_id = await source.resolve(request.match_info["name"])
    reason = request.query.get("reason")
    if reason is not None and (len(reason) > MAX_REASON or _CONTROL.search(reason)):
        return json_error(400, f"reason: at most {MAX_REASON} characters, no control characters")
    row = await source.act(reg_id, action, actor_of(request), reason)
    return web.json_response(row)


async def edit_camera(request: web.Request, source: RegistrySource) -> web.StreamResponse:
    try:
        data = await read_json(request)
    except (_TooLarge, _Malformed) as exc:
        return _body_error(exc)
    reg_id = await source.resolve(request.match_info["name"])
    row = await source.edit(reg_id, data, actor_of(request))
    return web.json_response(row)


async def service_discovery(request: web.Request, source: RegistrySource) -> web.StreamResponse:
    return web.json_response(await source.sd_targets())
