"""Who may do what: scoped principals, hashed secrets, and checking them in constant time.

Three scopes, each including the one before: `viewer` (console and camera images),
`operator` (approve and edit registrations), `admin` (reload the config, ingest data). A
scope is given to a bearer token (machines: Grafana, Prometheus, ingest scripts) or to a
user with a password (people, through the login page). Passwords are kept only as scrypt
hashes (hashlib, memory-hard, no extra package); tokens are compared with
`hmac.compare_digest` against every configured token so timing does not tell which exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

Scope = Literal["viewer", "operator", "admin"]
SCOPES: tuple[Scope, ...] = ("viewer", "operator", "admin")
_RANK = {scope: rank for rank, scope in enumerate(SCOPES)}

# scrypt cost: 2^15 x 8 x 1 takes ~50 ms and 32 MiB per login: slow for a guesser with a
# stolen hash, fine for a handful of logins a minute.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
HASH_PREFIX = "scrypt"


@dataclass(frozen=True)
class Principal:
    """Someone authenticated: a user through a session, or a token's name."""

    name: str
    scope: Scope
    via: Literal["token", "session"]

    def allows(self, needed: Scope) -> bool:
        return _RANK[self.scope] >= _RANK[needed]


def allows(scope: Scope, needed: Scope) -> bool:
    return _RANK[scope] >= _RANK[needed]


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
                  ) -> str:
    """`scrypt$N$r$p$salt$hash` (base64): what `daemon.auth.users[].password_hash` holds."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM)
    return "$".join(
        [HASH_PREFIX, str(n), str(r), str(p), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` string; malformed hashes never match."""
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != HASH_PREFIX:
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), maxmem=_MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def check_hash_format(stored: str) -> None:
    """Raise ValueError unless `stored` looks like a `hash_password` result (config check)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != HASH_PREFIX or not all(x.isdigit() for x in parts[1:4]):
        raise ValueError("password_hash must come from `sitroom hash-password` "
                         "(scrypt$N$r$p$salt$hash)")
    n = int(parts[1])
    if n < 2**14 or n & (n - 1):
        raise ValueError("password_hash: scrypt N must be a power of two of at least 16384")


def match_token(given: str, tokens: list[tuple[str, str, Scope]]) -> Principal | None:
    """The principal whose token equals `given`; every token is compared (no early exit)."""
    found: Principal | None = None
    for name, token, scope in tokens:
        if hmac.compare_digest(given.encode(), token.encode()) and found is None:
            found = Principal(name, scope, "token")
    return found


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
