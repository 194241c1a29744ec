"""Where the registry's tables live: an SQLite file (embedded) or a PostgreSQL database.

The store (store.py) holds the one set of queries and rules; a backend holds only what
differs between the two dialects:

- connecting, and the durability settings: SQLite in WAL with `synchronous=FULL`;
  PostgreSQL with `synchronous_commit=on` set per session, so a server default of `off`
  cannot turn an acknowledged registration into a lost one;
- the parameter style (`?` in the store's SQL, `%s` for psycopg);
- the column types migrations use (`REAL` timestamps become `DOUBLE PRECISION`, the
  audit log's id becomes `BIGSERIAL`) and SQLite's `randomblob` in migration 2;
- how a write transaction takes the one writer lock: SQLite's `BEGIN IMMEDIATE`, or
  `pg_advisory_xact_lock` on a fixed key, so writes from every replica queue one after the
  other exactly as SQLite writers do (a claim reads and updates under it, so two replicas
  can never claim one registration);
- change detection: SQLite's `PRAGMA data_version` moves when another connection commits;
  PostgreSQL has no such counter, so the highest audit-log id stands in (every write adds an
  audit row, and the writer lock orders the ids by commit).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from sitroom.api import redact_url

# "sitroom registry" as a signed 64-bit key for pg_advisory_xact_lock
WRITER_LOCK_KEY = int.from_bytes(b"sitroomR", "big") - (1 << 63)


class Backend(Protocol):
    """The dialect pieces a RegistryStore needs. Instances connect; they hold no connection."""

    integrity_error: type[Exception]

    def describe(self) -> str:
        """Where the data lives, safe for logs and `/api/v1/sources` (no password)."""
        ...

    def connect(self) -> Any: ...

    def sql(self, text: str) -> str:
        """The store's `?`-style statement in this driver's parameter style."""
        ...

    def render(self, script: str) -> str:
        """A migration with its `{real}`, `{serial_pk}`, `{random_hex16}` types filled in."""
        ...

    def write_transaction(self, conn: Any) -> contextlib.AbstractContextManager[None]:
        """One committed-or-rolled-back transaction holding the registry's writer lock."""
        ...

    def data_version(self, conn: Any) -> int: ...


class SQLiteBackend:
    integrity_error: type[Exception] = sqlite3.IntegrityError

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return str(self.path)

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # owner contacts and camera passwords: not for other local users
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def sql(self, text: str) -> str:
        return text

    def render(self, script: str) -> str:
        return script.format(
            real="REAL",
            serial_pk="INTEGER PRIMARY KEY AUTOINCREMENT",
            random_hex16="lower(hex(randomblob(8)))",
        )

    @contextlib.contextmanager
    def write_transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")  # the write lock up front: writers wait, not deadlock
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def data_version(self, conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])


class PostgresBackend:
    """psycopg 3 on a DSN; the password comes apart (config `password`/`password_file`)."""

    def __init__(
        self, dsn: str, password: str | None = None, connect_timeout: float = 10.0
    ) -> None:
        self.dsn = dsn
        self._password = password
        self.connect_timeout = connect_timeout
        try:
            import psycopg
        except ImportError:
            raise RuntimeError(
                "the postgresql registry backend needs psycopg: pip install 'sitroom[registry]'"
            ) from None
        self._psycopg = psycopg
        self.integrity_error: type[Exception] = psycopg.IntegrityError

    def describe(self) -> str:
        return redact_url(self.dsn)

    def connect(self) -> Any:
        from psycopg.rows import dict_row

        extra: dict[str, Any] = {"connect_timeout": max(1, round(self.connect_timeout))}
        if self._password is not None:
            extra["password"] = self._password
        try:
            conn = self._psycopg.connect(
                self.dsn, autocommit=True, row_factory=dict_row, **extra
            )
        except self._psycopg.Error as exc:
            # libpq's message names host, port and user, never the password; the DSN text
            # is not repeated. The type and the first line are enough to act on.
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise ConnectionError(f"PostgreSQL {self.describe()}: {first}") from None
        conn.execute("SET synchronous_commit = on")
        conn.execute("SET lock_timeout = '5s'")  # as SQLite's busy_timeout bounds a wait
        return conn

    def sql(self, text: str) -> str:
        return text.replace("%", "%%").replace("?", "%s")

    def render(self, script: str) -> str:
        return script.format(
            real="DOUBLE PRECISION",
            serial_pk="BIGSERIAL PRIMARY KEY",
            random_hex16="substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)",
        )

    @contextlib.contextmanager
    def write_transaction(self, conn: Any) -> Iterator[None]:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK_KEY,))
            yield

    def data_version(self, conn: Any) -> int:
        row = conn.execute("SELECT COALESCE(MAX(id), 0) AS version FROM audit_log").fetchone()
        return int(row["version"])
