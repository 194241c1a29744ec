"""`/login`, `/logout` and the language switch: the pages every deployment has.

A login checks the scrypt hash in a worker thread (it takes tens of milliseconds on
purpose) and is rate-limited per client like the public registration form, so a password
cannot be guessed at network speed. A wrong user and a wrong password read the same.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TYPE_CHECKING

import structlog
from aiohttp import web

from sitroom.auth import verify_password
from sitroom.ratelimit import TokenBucketLimiter, client_address, retry_after
from sitroom.sessions import SESSION_COOKIE
from sitroom.webui import (
    LANG_COOKIE,
    LANGUAGES,
    SESSION_KEY,
    check_csrf,
    render,
    safe_next,
    tr,
)

if TYPE_CHECKING:
    from sitroom.daemon import Daemon

log = structlog.get_logger("sitroom.login")
# verified against when the user does not exist, so both cases cost one scrypt
_DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="


def add_routes(app: web.Application, daemon: Daemon) -> None:
    web_config = daemon.daemon_config.web
    limiter = TokenBucketLimiter(web_config.login_per_minute, web_config.login_burst)
    proxies = tuple(ipaddress.ip_network(n, strict=False) for n in web_config.trusted_proxies)

    async def login_page(request: web.Request) -> web.StreamResponse:
        return render(request, "login.html", {"next": safe_next(request.query.get("next"),
                                                                 "/console"), "error": None})

    async def login_submit(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        check_csrf(request, form)
        next_path = safe_next(str(form.get("next", "")), "/console")
        wait = limiter.take(client_address(request, proxies))
        if wait:
            message = tr(request, "Terlalu banyak percobaan masuk. Coba lagi nanti.",
                         "Too many login attempts. Try again later.")
            response = render(request, "login.html", {"next": next_path, "error": message},
                              status=429)
            response.headers["Retry-After"] = retry_after(wait)
            return response
        name = str(form.get("username", ""))[:64]
        password = str(form.get("password", ""))[:1024]
        users = {u.name: u for u in daemon.daemon_config.auth.users}
        user = users.get(name)
        stored = user.password_hash.get_secret_value() if user else _DUMMY_HASH
        ok = await asyncio.get_running_loop().run_in_executor(
            None, verify_password, password, stored
        )
        if user is None or not ok:
            log.warning("login_failed", user=name if user else "(unknown)")
            message = tr(request, "Nama pengguna atau kata sandi salah.",
                         "Wrong user name or password.")
            return render(request, "login.html", {"next": next_path, "error": message},
                          status=401)
        old = request.get(SESSION_KEY)
        if old is not None:
            daemon.sessions.drop(old.id)
        session = daemon.sessions.create(user.name, user.scope)
        log.info("login", user=user.name, scope=user.scope)
        response = web.HTTPSeeOther(next_path)
        response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="Strict",
                            secure=daemon.daemon_config.auth.cookie_secure, path="/",
                            max_age=int(daemon.sessions.ttl))
        raise response

    async def logout(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        check_csrf(request, form)
        session = request.get(SESSION_KEY)
        if session is not None:
            daemon.sessions.drop(session.id)
        response = web.HTTPSeeOther("/")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    async def language(request: web.Request) -> web.StreamResponse:
        lang = request.match_info["lang"]
        if lang not in LANGUAGES:
            raise web.HTTPNotFound()
        response = web.HTTPSeeOther(safe_next(request.query.get("next")))
        response.set_cookie(LANG_COOKIE, lang, samesite="Lax", path="/",
                            max_age=365 * 86400, httponly=True)
        raise response

    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_get("/lang/{lang}", language)
