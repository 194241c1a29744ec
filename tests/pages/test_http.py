"""The pages' security over plain HTTP: headers, scopes, login, CSRF, API paths and filters."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from sitroom.auth import Principal, hash_password, verify_password
from sitroom.sessions import SessionStore
from sitroom.webui import content_security_policy, safe_next
from tests.pages.config import ADMIN_TOKEN, PASSWORDS, VIEWER_TOKEN
from tests.support import DaemonProcess, http_get, http_post, wait_until

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
VIEWER = {"Authorization": f"Bearer {VIEWER_TOKEN}"}


class Browser:
    """urllib with a cookie jar and no redirect following: enough to act like a form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path: str, form: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data)
        try:
            with self.opener.open(req, timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def csrf(self, path: str = "/login") -> str:
        _, _, body = self.request(path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', body)
        assert match, body[:500]
        return match.group(1)


def test_hash_password_command(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from sitroom.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-123\n"))
    assert main(["hash-password", "--stdin"]) == 0
    assert verify_password("a-long-password-123", capsys.readouterr().out.strip())
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["hash-password", "--stdin"]) == 2


def test_password_hashes_and_sessions() -> None:
    stored = hash_password("rahasia", n=2**14)
    assert stored.startswith("scrypt$16384$") and "rahasia" not in stored
    assert verify_password("rahasia", stored) and not verify_password("Rahasia", stored)
    assert not verify_password("rahasia", "not-a-hash")
    clock = [0.0]
    store = SessionStore(ttl=10, max_sessions=2, clock=lambda: clock[0])
    first = store.create("a", "viewer")
    assert store.get(first.id) is first and first.principal == Principal("a", "viewer", "session")
    store.create("b", "viewer")
    store.create("c", "viewer")
    assert store.get(first.id) is None  # bounded: the oldest went first
    clock[0] = 11
    assert store.users() == {"b", "c"} and all(store.get(s) is None for s in ("b", "c"))
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil", "", None):
        assert safe_next(bad) == "/"
    assert safe_next("/console?x=1") == "/console?x=1"
    policy = content_security_policy("https://tiles.example.id")
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "img-src 'self' data: https://tiles.example.id" in policy


@pytest.mark.integration
def test_headers_scopes_login_csrf_and_api_paths(daemon: DaemonProcess) -> None:
    base = daemon.url
    # -- security headers, on pages, the API and errors alike ----------------------------------
    for path in ("/", "/api/v1/sources", "/no-such-page"):
        with urllib.request.urlopen(base + "/") if path == "/" else _open(base + path) as r:
            headers = r.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    _, body = http_get(base + "/")
    assert "<script" in body and not re.search(r"<script(?![^>]*\bsrc=)", body)  # no inline

    # -- scopes: the old single token is admin; a viewer token sees, cannot change ---------------
    assert http_get(f"{base}/api/v1/cameras", headers=VIEWER)[0] == 403
    assert http_post(f"{base}/-/reload", headers=VIEWER)[0] == 403
    assert http_post(f"{base}/-/reload", headers=ADMIN)[0] == 200
    assert http_get(f"{base}/api/v1/sd/cameras", headers=VIEWER)[0] == 200
    assert http_get(f"{base}/api/v1/cameras/simpang-lima/events", headers=VIEWER)[0] == 200
    assert http_get(f"{base}/api/v1/cameras/simpang-lima/events")[0] == 401

    # -- one identifier, and status filters that match what a waiting camera is ----------------
    port = daemon.camera_port  # type: ignore[attr-defined]
    form = {"owner_name": "Sekolah Dasar 1", "owner_type": "school",
            "address": "Jl. Pandanaran 5", "district": "Semarang Selatan",
            "latitude": -6.99, "longitude": 110.42, "consent": True,
            "stream": {"url": f"http://127.0.0.1:{port}/snapshot.jpg"}}
    status, created = http_post(f"{base}/api/v1/registrations", form)
    assert status == 201, created
    reg_id = json.loads(created)["id"]

    def waiting() -> list[dict[str, Any]]:
        _, listed = http_get(f"{base}/api/v1/cameras?status=waiting", headers=ADMIN)
        rows = json.loads(listed)["cameras"]
        return [r for r in rows if r["status"] == "awaiting_approval"]

    row = wait_until(waiting, timeout=30, what="probe")[0]
    name = row["camera_name"]
    for query in ("awaiting_approval", "queue", "active,awaiting_approval"):
        _, listed = http_get(f"{base}/api/v1/cameras?status={query}", headers=ADMIN)
        assert [r["camera_name"] for r in json.loads(listed)["cameras"]] == [name], query
    status, problem = http_get(f"{base}/api/v1/cameras?status=waitin", headers=ADMIN)
    assert status == 400 and "waiting" in problem
    assert json.loads(http_get(f"{base}/api/v1/cameras/{name}", headers=ADMIN)[1])["id"] == reg_id
    assert http_get(f"{base}/api/v1/cameras/{reg_id}", headers=ADMIN)[0] == 200  # deprecated
    # the queue shows owners' details to operators only (as the API does)
    pages = {user: logged_in(base, user).request("/console")[2] for user in PASSWORDS}
    assert name in pages["viewer"] and "Jl. Pandanaran 5" not in pages["viewer"]
    assert "Jl. Pandanaran 5" in pages["operator"] and 'data-action="approve"' in pages["operator"]
    status, body = http_post(f"{base}/api/v1/cameras/{name}/reject?reason=bukan+jalan+umum",
                             headers=ADMIN)
    assert status == 200 and json.loads(body)["status"] == "retired"
    _, audit = http_get(f"{base}/api/v1/cameras/{name}/audit", headers=ADMIN)
    assert json.loads(audit)["audit"][-1]["detail"] == {"reason": "bukan jalan umum"}

    # -- login: CSRF first, wrong passwords read alike, cookies are HttpOnly + Strict -----------
    browser = Browser(base)
    assert browser.request("/login", {"username": "operator",
                                      "password": PASSWORDS["operator"]})[0] == 403
    token = browser.csrf()
    for user in ("operator", "nobody"):
        status, _, page = browser.request(
            "/login", {"csrf_token": token, "username": user, "password": "salah"})
        assert status == 401 and "Nama pengguna atau kata sandi salah" in page
    status, headers, _ = browser.request("/login", {
        "csrf_token": token, "username": "operator", "password": PASSWORDS["operator"],
        "next": "https://evil.example/"})
    assert status == 303 and headers["Location"] == "/console"  # never off-site
    cookie = headers["Set-Cookie"]
    assert "sitroom_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _, page = browser.request("/console")
    assert status == 200 and "operator (operator)" in page
    # the session's CSRF token differs from the pre-login one: the old one no longer works
    assert browser.request(f"/console/cameras/{name}/reprobe", {"csrf_token": token})[0] == 403
    # a console session reaches images without a bearer header; anonymous visitors do not
    assert browser.request("/api/v1/cameras/simpang-lima/events")[0] == 200
    assert Browser(base).request("/console")[0] == 303  # to the login page

    # -- login attempts are rate-limited per client ----------------------------------------------
    stranger = Browser(base)
    token = stranger.csrf()
    statuses = [stranger.request("/login", {"csrf_token": token, "username": "operator",
                                            "password": "tebak"})[0] for _ in range(8)]
    assert 429 in statuses


def logged_in(base: str, user: str) -> Browser:
    browser = Browser(base)
    status, _, _ = browser.request("/login", {"csrf_token": browser.csrf(), "username": user,
                                              "password": PASSWORDS[user]})
    assert status == 303
    return browser


def _open(url: str) -> Any:
    try:
        return urllib.request.urlopen(url)
    except urllib.error.HTTPError as exc:
        return exc
