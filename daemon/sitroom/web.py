"""The HTTP face of the daemon: /metrics, health, reload, the sources API and plugin routes."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import structlog
from aiohttp import web

from sitroom import runbooks_page
from sitroom import selfmetrics as sm
from sitroom import webui as pages
from sitroom.auth import Principal, Scope, match_token
from sitroom.declarations import Handler, Route
from sitroom.failures import failure_key
from sitroom.metrics.exposition import OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, render
from sitroom.secrets import redactor
from sitroom.sessions import CSRF_COOKIE, SESSION_COOKIE
from sitroom.webui import SESSION_KEY, check_csrf, login, security_headers

if TYPE_CHECKING:
    from sitroom.daemon import Daemon

log = structlog.get_logger("sitroom.web")
DAEMON_KEY: web.AppKey[Daemon] = web.AppKey("daemon")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class ScrapeTimer:
    """How long the previous /metrics response took (exposed by the next scrape)."""

    last_seconds: float = 0.0


SCRAPE_KEY: web.AppKey[ScrapeTimer] = web.AppKey("scrape_timer")


def parse_listen(listen: str) -> tuple[str | None, int]:
    """`:9750` (all interfaces), `127.0.0.1:9750`, `[::1]:9750` -> (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"listen must look like HOST:PORT or :PORT, got {listen!r}")
    return host.strip("[]") or None, int(port)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.strip()


def principal_of(request: web.Request) -> Principal | None:
    """Who is asking: a bearer token's principal, else a console session's, else None."""
    token = bearer_token(request)
    if token is not None:
        return match_token(token, request.app[DAEMON_KEY].scoped_tokens())
    session = request.get(SESSION_KEY)
    return session.principal if session is not None else None


async def require(request: web.Request, scope: Scope) -> Principal:
    """Raise 401/403 unless the caller holds `scope`; sessions also need CSRF to change state.

    With no token and no user configured, protected endpoints stay closed rather than open:
    an operator who forgot `auth.token_file` must not end up with an unauthenticated reload
    or camera feed.
    """
    daemon = request.app[DAEMON_KEY]
    if not daemon.scoped_tokens() and not daemon.daemon_config.auth.users:
        raise web.HTTPForbidden(text="no API token configured (daemon.auth.token_file)\n")
    principal = principal_of(request)
    if principal is None:
        raise web.HTTPUnauthorized(
            text="missing or wrong bearer token\n",
            headers={"WWW-Authenticate": 'Bearer realm="sitroom"'},
        )
    if not principal.allows(scope):
        raise web.HTTPForbidden(text=f"this needs the {scope} scope\n")
    if principal.via == "session" and request.method not in ("GET", "HEAD"):
        form = await request.post() if request.content_type in FORM_TYPES else None
        check_csrf(request, form)
    return principal


def wants_openmetrics(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/openmetrics-text" in accept


async def metrics_handler(request: web.Request) -> web.StreamResponse:
    daemon = request.app[DAEMON_KEY]
    timer = request.app[SCRAPE_KEY]
    started = time.perf_counter()
    daemon.manager.refresh_gauges()
    daemon.runtime.refresh()
    daemon.core.set(sm.SCRAPE_DURATION, timer.last_seconds)
    openmetrics = wants_openmetrics(request)
    body = render(daemon.store, openmetrics=openmetrics)
    timer.last_seconds = time.perf_counter() - started
    response = web.Response(
        body=body.encode(),
        headers={"Content-Type": OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE},
    )
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression()
    return response


async def healthy_handler(request: web.Request) -> web.Response:
    return web.Response(text="sitroom is healthy\n")


async def ready_handler(request: web.Request) -> web.Response:
    if request.app[DAEMON_KEY].ready:
        return web.Response(text="sitroom is ready\n")
    return web.Response(status=503, text="sitroom is not ready\n")


async def reload_handler(request: web.Request) -> web.Response:
    await require(request, "admin")
    ok, problems = await request.app[DAEMON_KEY].reload()
    body = {"status": "success" if ok else "error", "errors": problems}
    return web.json_response(redactor.redact_value(body), status=200 if ok else 400)


def is_authorized(request: web.Request) -> bool:
    """Whether the caller may see full source detail (config, errors): operators and up."""
    principal = principal_of(request)
    return principal is not None and principal.allows("operator")


async def sources_handler(request: web.Request) -> web.Response:
    manager = request.app[DAEMON_KEY].manager
    full = is_authorized(request)
    sources = [manager.state(name, full) for name in manager.names()]
    invalid = [
        {"where": issue.where, "error": issue.message if full else "invalid config"}
        for issue in manager.invalid()
    ]
    body = {"sources": sources, "invalid": invalid, "detail": "full" if full else "public"}
    return web.json_response(redactor.redact_value(body), dumps=_dumps)


async def events_handler(request: web.Request) -> web.Response:
    """Active events (viewer scope: the operators' console reads this)."""
    await require(request, "viewer")
    manager = request.app[DAEMON_KEY].events.manager
    events = sorted((e.to_json() for e in manager.events()), key=lambda e: e["start_time"])
    return web.json_response({"events": events}, dumps=_dumps)


async def event_handler(request: web.Request) -> web.Response:
    """One event by id (the alert's generatorURL); viewer scope."""
    await require(request, "viewer")
    event = request.app[DAEMON_KEY].events.manager.find(request.match_info["id"])
    if event is None:
        return web.json_response({"error": "no such event"}, status=404)
    return web.json_response(event.to_json(), dumps=_dumps)


async def event_snapshot_handler(request: web.Request) -> web.StreamResponse:
    """An event's picture: with the link's signature (no header needed) or the viewer scope.

    A wrong, expired or missing signature says only that the link is not valid, and the
    query string is never logged (it is a capability)."""
    daemon = request.app[DAEMON_KEY]
    manager = daemon.events.manager
    event_id = request.match_info["id"]
    signer = manager.signer
    signed = (signer is not None and "sig" in request.query
              and signer.verify(event_id, request.query.get("exp", ""),
                                request.query.get("sig", "")))
    if not signed:
        if "sig" in request.query or bearer_token(request) is None:
            raise web.HTTPForbidden(text="this link is not valid or has expired\n")
        await require(request, "viewer")
    data = await manager.snapshots.get(event_id) if manager.snapshots.has(event_id) else None
    if data is None:
        return web.json_response({"error": "no picture for this event"}, status=404)
    return web.Response(body=data, content_type="image/jpeg",
                        headers={"Cache-Control": "private, no-store",
                                 "Referrer-Policy": "no-referrer"})


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _wrap(route: Route) -> Any:
    needs = cast("Scope | None", route.needs)

    async def handler(request: web.Request) -> web.StreamResponse:
        if needs is not None:
            if route.page and principal_of(request) is None:
                target = quote(request.path_qs, safe="")
                raise web.HTTPSeeOther(f"/login?next={target}")
            await require(request, needs)
        return await route.handler(request)

    return handler


_LOGGED_FAILURES: set[tuple[str, str]] = set()


def log_internal_failure(logger: Any, event: str, exc: BaseException, **fields: Any) -> None:
    """Log an unexpected exception once per (type, place), without its message or traceback:
    both can quote the hostile payload (a password, a surrogate) that caused it."""
    key = failure_key(exc)
    if key in _LOGGED_FAILURES:
        return
    _LOGGED_FAILURES.add(key)
    logger.error(event, error_type=key[0], at=key[1],
                 note="first of its kind; further ones are only counted", **fields)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find the console session, run the handler, then add the security headers and the
    pre-login CSRF cookie (to errors too: an error page must not be framable either)."""
    daemon = request.app[DAEMON_KEY]
    request[SESSION_KEY] = daemon.sessions.get(request.cookies.get(SESSION_COOKIE))
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    security_headers(response, daemon.daemon_config.web.tile_origin)
    fresh_csrf = request.get(CSRF_COOKIE)
    if fresh_csrf:
        response.set_cookie(CSRF_COOKIE, fresh_csrf, httponly=True, samesite="Strict",
                            secure=daemon.daemon_config.auth.cookie_secure, path="/")
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn unexpected exceptions into a counted 500 without leaking tracebacks or input."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        request.app[DAEMON_KEY].core.inc(sm.HTTP_ERRORS, reason="internal")
        # the route pattern, not the path: a path can hold a registration id (a capability)
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "?"
        log_internal_failure(log, "http_handler_failed", exc, route=route)
        return web.json_response({"error": "internal error"}, status=500)


def build_app(daemon: Daemon) -> web.Application:
    app = web.Application(
        middlewares=[session_middleware, error_middleware], client_max_size=4 * 1024 * 1024
    )
    app[DAEMON_KEY] = daemon
    routes = daemon.plugins.routes(daemon.api)
    menu = [
        {"path": r.path, "label": r.nav, "public": r.needs is None}
        for r in routes
        if r.page and r.nav is not None and r.method == "GET"
    ]
    pages.setup(
        app,
        daemon.plugins.template_dirs(),
        {"city": daemon.daemon_config.city, "menu": menu, "web": lambda: daemon.daemon_config.web},
    )
    login.add_routes(app, daemon)
    app[SCRAPE_KEY] = ScrapeTimer()
    daemon.core.inc(sm.HTTP_ERRORS, 0, reason="internal")
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/-/healthy", healthy_handler)
    app.router.add_get("/-/ready", ready_handler)
    app.router.add_post("/-/reload", reload_handler)
    app.router.add_put("/-/reload", reload_handler)
    app.router.add_get("/api/v1/sources", sources_handler)
    app.router.add_get("/api/v1/events", events_handler)
    app.router.add_get("/api/v1/events/{id}", event_handler)
    app.router.add_get("/api/v1/events/{id}/snapshot.jpg", event_snapshot_handler)
    runbooks_page.add_routes(app)
    for route in routes:
        app.router.add_route(route.method, route.path, _wrap(route))
    return app


async def start_web(
    daemon: Daemon, listen: str
) -> tuple[web.AppRunner, list[tuple[str, int]]]:
    """Serve the app on `listen`; returns the runner and the addresses really bound."""
    host, port = parse_listen(listen)
    runner = web.AppRunner(build_app(daemon), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host=host, port=port, reuse_address=True)
    await site.start()
    bound = [(str(address[0]), int(address[1])) for address in runner.addresses]
    return runner, bound
