"""The pages' machinery: templates, static files, language, security headers, login.

Pages are server-rendered with Jinja2 (aiohttp-jinja2), autoescaped. The core owns the
layout (`base.html`), the login page, the stylesheet and the one script; plugins add their
own templates through the `sitroom_templates` hook and their pages as `Route(page=True)`.
No inline script or style anywhere, so the Content-Security-Policy can forbid both.

Language: Bahasa Indonesia first; `tr("Indonesian", "English")` in templates and handlers
picks by the `sitroom_lang` cookie, which the language switch sets.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from sitroom.sessions import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, new_csrf, tokens_match

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
LANG_COOKIE = "sitroom_lang"
LANGUAGES = ("id", "en")
SESSION_KEY = "sitroom_session_obj"
CSP_KEY = "sitroom_csp_img"


def language(request: web.Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "id")
    return lang if lang in LANGUAGES else "id"


def tr(request: web.Request, indonesian: str, english: str) -> str:
    """The text in the visitor's language (Indonesian unless they switched)."""
    return english if language(request) == "en" else indonesian


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go back to; anything else (`//evil`, `https://...`) is `default`."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def csrf_token(request: web.Request) -> str:
    """The token this visitor's forms carry: the session's, or the pre-login cookie's."""
    session = request.get(SESSION_KEY)
    if session is not None:
        return str(session.csrf)
    token = request.cookies.get(CSRF_COOKIE) or request.get(CSRF_COOKIE)
    if not token:
        token = new_csrf()
        request[CSRF_COOKIE] = token  # the middleware sets the cookie on the response
    return str(token)


def check_csrf(request: web.Request, form: Any) -> None:
    """403 unless the form (or X-CSRF-Token header) carries this visitor's token."""
    given = (form.get(CSRF_FIELD) if form is not None else None) or request.headers.get(
        CSRF_HEADER
    )
    session = request.get(SESSION_KEY)
    expected = session.csrf if session is not None else request.cookies.get(CSRF_COOKIE)
    if not tokens_match(given, expected):
        raise web.HTTPForbidden(
            text=tr(request, "Token formulir tidak ada atau salah (CSRF). Muat ulang halaman.",
                    "Missing or wrong form token (CSRF). Reload the page.") + "\n"
        )


def render(request: web.Request, template: str, context: dict[str, Any],
           status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application, template_dirs: list[Path],
          globals_: dict[str, Any]) -> None:
    """Jinja2 with the core's templates first, then each plugin's; `/static/` files."""
    loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(str(TEMPLATE_DIR))]
        + [jinja2.FileSystemLoader(str(d)) for d in template_dirs]
    )
    env = aiohttp_jinja2.setup(
        app, loader=loader, autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined, context_processors=[_context],
    )
    env.globals.update(globals_)
    env.filters["timestamp"] = _timestamp
    app.router.add_static("/static/", STATIC_DIR, name="static", show_index=False,
                          follow_symlinks=False,
                          append_version=True)


def _timestamp(value: float | None) -> str:
    """Epoch seconds as local date and time (the daemon runs in the city's time zone)."""
    if value is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(value)))


async def _context(request: web.Request) -> dict[str, Any]:
    session = request.get(SESSION_KEY)

    def t(indonesian: str, english: str) -> str:
        return tr(request, indonesian, english)

    return {
        "t": t,
        "lang": language(request),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "user": session.principal if session is not None else None,
        "path": request.path_qs,
        "static": lambda name: request.app.router["static"].url_for(filename=name),
    }


def content_security_policy(img_origin: str | None) -> str:
    images = "'self' data:" + (f" {img_origin}" if img_origin else "")
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ])


def security_headers(response: web.StreamResponse, img_origin: str | None) -> None:
    """Headers on every answer; the status URL is a secret, so no Referer leaves."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(img_origin))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
