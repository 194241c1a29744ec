"""Console sessions and CSRF tokens, in memory.

A session is a random id in an HttpOnly, SameSite=Strict cookie (Secure unless configured
off for loopback HTTP); the server keeps who it belongs to, the scope, and the session's
CSRF token. In memory on purpose: a restart logs everyone out, which is the safe failure,
and nothing about a login ever reaches disk. The store is bounded: the oldest sessions go
first when `max_sessions` is reached, so a login flood cannot exhaust memory.

CSRF: every form carries a token that must equal the one the server holds for the session
(or, before login, the value of a separate SameSite=Strict `sitroom_csrf` cookie: the
double-submit pattern). A cross-site page can neither read the token nor make the browser
send the Strict cookies, so a forged form fails twice over.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sitroom.auth import Principal, Scope

SESSION_COOKIE = "sitroom_session"
CSRF_COOKIE = "sitroom_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class Session:
    id: str
    user: str
    scope: Scope
    csrf: str
    expires: float

    @property
    def principal(self) -> Principal:
        return Principal(self.user, self.scope, "session")


class SessionStore:
    """Sessions by id, expiring after `ttl` seconds, at most `max_sessions` of them."""

    def __init__(self, ttl: float, max_sessions: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_sessions = max_sessions
        self.clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def create(self, user: str, scope: Scope) -> Session:
        session = Session(secrets.token_urlsafe(32), user, scope, secrets.token_urlsafe(32),
                          self.clock() + self.ttl)
        self._sessions[session.id] = session
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires < self.clock():
            del self._sessions[session_id]
            return None
        return session

    def drop(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def drop_user_unless(self, user: str, scope: str | None) -> None:
        """Forget a user's sessions unless they still hold `scope` (config reloaded)."""
        for sid in [s.id for s in self._sessions.values()
                    if s.user == user and s.scope != scope]:
            del self._sessions[sid]

    def users(self) -> set[str]:
        return {s.user for s in self._sessions.values()}


def tokens_match(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(
        str(given).encode(), str(expected).encode()
    )


def new_csrf() -> str:
    return secrets.token_urlsafe(32)
