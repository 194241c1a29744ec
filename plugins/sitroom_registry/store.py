"""The registry's store: registrations, credentials apart, and an audit log.

One set of queries over two backends (backends.py): an SQLite file, the embedded default,
or a PostgreSQL database that every replica shares. The rules below hold for both; the
backend supplies the dialect (parameter style, column types, the writer lock, change
detection).

Durability (SQLite): WAL journal with `synchronous=FULL`. Every write is one transaction committed
before the API answers, so a registration that got a 201 survives a SIGKILL. WAL with
`synchronous=NORMAL` would already survive a killed process (the WAL is in the OS page
cache), but can lose the last commits on power loss or a kernel crash; registrations arrive
at human pace, so an fsync per commit costs nothing noticeable and "acknowledged means on
disk" holds for every failure, not just process death. PostgreSQL: every write is one
transaction committed (with `synchronous_commit=on`, WAL flushed) before the API answers.

Threading: one connection, used by one thread. The daemon wraps the store in `AsyncStore`,
which runs every call on a dedicated single-thread executor, so SQLite never blocks the
event loop and never sees two threads. The CLI uses the store directly. Other processes (the
CLI while the daemon runs) are serialised by SQLite's locks; `BEGIN IMMEDIATE` takes the
write lock up front so two writers wait rather than deadlock, and `busy_timeout` bounds it.
On PostgreSQL an advisory transaction lock plays `BEGIN IMMEDIATE`'s part across replicas,
and `lock_timeout` bounds the wait.

Probing: a claim records its claimer and time (claims.py); `recover_probes` requeues only
claims whose claimer is certainly gone, so a restarting replica leaves its neighbours'
in-flight probes alone.

Credentials live in their own table and leave it only through `credentials()`: list, get,
export and audit never join it.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sitroom_registry.backends import Backend, SQLiteBackend
from sitroom_registry.claims import Claimer, claim_is_dead
from sitroom_registry.lifecycle import TransitionError, target

P = ParamSpec("P")
T = TypeVar("T")

MIGRATIONS: tuple[str, ...] = (
    # Written once for both backends: {real}, {serial_pk} and {random_hex16} are filled in
    # by the backend (Backend.render); statements are separated by ';'.
    # 1: the initial schema
    """
    CREATE TABLE registrations (
        id TEXT PRIMARY KEY,
        camera_name TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        created_at {real} NOT NULL,
        updated_at {real} NOT NULL,
        owner_name TEXT NOT NULL,
        contact_phone TEXT,
        contact_email TEXT,
        owner_type TEXT NOT NULL,
        address TEXT NOT NULL,
        district TEXT NOT NULL,
        location_name TEXT,
        latitude {real} NOT NULL,
        longitude {real} NOT NULL,
        protocol TEXT NOT NULL,
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        path TEXT NOT NULL,
        pinned_address TEXT NOT NULL,
        consent_at {real} NOT NULL,
        source TEXT NOT NULL DEFAULT 'api',
        probe_result TEXT,
        probe_detail TEXT,
        probed_at {real},
        width INTEGER,
        height INTEGER,
        codec TEXT
    );
    CREATE INDEX registrations_status ON registrations(status);
    CREATE TABLE credentials (
        registration_id TEXT PRIMARY KEY
            REFERENCES registrations(id) ON DELETE CASCADE,
        username TEXT,
        password TEXT
    );
    CREATE TABLE audit_log (
        id {serial_pk},
        registration_id TEXT NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
        at {real} NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT,
        detail TEXT
    );
    CREATE INDEX audit_registration ON audit_log(registration_id, id);
    """,
    # 2: camera names no longer embed the registration id (the citizen's status-URL secret),
    # which /metrics and /api/v1/sources show to anyone: give each a random suffix instead
    """
    UPDATE registrations
    SET camera_name = substr(camera_name, 1, length(camera_name) - length(id))
        || {random_hex16}
    WHERE substr(camera_name, length(camera_name) - length(id) + 1) = id;
    """,
    # 3: who claimed a registration for probing, and when (claims.py): a restarting replica
    # requeues only its own or stale claims, never a live neighbour's
    """
    ALTER TABLE registrations ADD COLUMN probe_claimed_by TEXT;
    ALTER TABLE registrations ADD COLUMN probe_claimed_at {real}
    """,
)

OWNER_COLUMNS = (
    "owner_name",
    "contact_phone",
    "contact_email",
    "owner_type",
    "address",
    "district",
    "location_name",
    "latitude",
    "longitude",
)
"""Who owns a camera and where it is: what a registration says besides its stream."""
ADDRESS_COLUMNS = ("protocol", "host", "port", "path", "pinned_address")

PUBLIC_COLUMNS = [
    "id",
    "camera_name",
    "status",
    "created_at",
    "updated_at",
    *OWNER_COLUMNS,
    *ADDRESS_COLUMNS,
    "consent_at",
    "source",
    "probe_result",
    "probe_detail",
    "probed_at",
    "width",
    "height",
    "codec",
]
EDITABLE = frozenset((*OWNER_COLUMNS, *ADDRESS_COLUMNS))


class NotFound(Exception):
    pass


class QueueFull(Exception):
    """Too many registrations wait for a probe: the public form answers 503 for a while."""


def new_id() -> str:
    """Unguessable: the public status URL is the only secret a citizen holds."""
    return secrets.token_hex(8)


def new_camera_name(prefix: str) -> str:
    """A public name (metric labels, source lists) that reveals nothing of the id.

    Random rather than derived from the id, so no key is needed to keep it unlinkable; it
    is stored, so it stays the same across restarts.
    """
    return f"{prefix}{secrets.token_hex(6)}"


class RegistryStore:
    """Synchronous store; one instance per thread (see AsyncStore).

    `target` is an SQLite file path or a Backend (backends.py); the store opens one
    connection through it.
    """

    def __init__(self, target: Path | Backend, claimer: Claimer | None = None) -> None:
        self.backend: Backend = (
            SQLiteBackend(Path(target)) if isinstance(target, (str, Path)) else target
        )
        self.claimer = claimer or Claimer.this_process()
        self._conn: Any = None

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite backend only)."""
        return Path(self.backend.path)  # type: ignore[attr-defined]

    # -- connection ---------------------------------------------------------------------

    def open(self) -> RegistryStore:
        self._conn = self.backend.connect()
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> Any:
        if self._conn is None:
            raise RuntimeError("store is not open")
        return self._conn

    def _q(self, sql: str, args: Any = ()) -> Any:
        """Run one statement written with `?` placeholders; rows read by column name."""
        return self.conn.execute(self.backend.sql(sql), args)

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        with self.backend.write_transaction(self.conn):
            yield

    def _migrate(self) -> None:
        with self._write():
            self._q(
                self.backend.render(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, applied_at {real} NOT NULL)"
                )
            )
            done = {row["version"] for row in self._q("SELECT version FROM schema_migrations")}
            for version, script in enumerate(MIGRATIONS, start=1):
                if version in done:
                    continue
                for statement in self.backend.render(script).split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self._q(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, time.time()),
                )

    def schema_version(self) -> int:
        row = self._q("SELECT MAX(version) AS version FROM schema_migrations").fetchone()
        return int(row["version"] or 0)

    def data_version(self) -> int:
        """Changes whenever another connection (the CLI, another replica) commits."""
        return self.backend.data_version(self.conn)

    # -- reads --------------------------------------------------------------------------

    def get(self, reg_id: str) -> dict[str, Any]:
        row = self._q(
            f"SELECT {', '.join(PUBLIC_COLUMNS)} FROM registrations WHERE id = ?", (reg_id,)
        ).fetchone()
        if row is None:
            raise NotFound(reg_id)
        return dict(row)

    def list(
        self, status: str | Sequence[str] | None = None, district: str | None = None
    ) -> list[dict[str, Any]]:
        """Registrations with one status or any of several, in one district or all."""
        sql = f"SELECT {', '.join(PUBLIC_COLUMNS)} FROM registrations"
        where: list[str] = []
        args: list[Any] = []
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            args.extend(statuses)
        if district is not None:
            where.append("district = ?")
            args.append(district)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, id"
        return [dict(row) for row in self._q(sql, args)]

    def id_of_camera(self, camera_name: str) -> str:
        """The registration behind a camera name (the one identifier the API uses)."""
        row = self._q(
            "SELECT id FROM registrations WHERE camera_name = ?", (camera_name,)
        ).fetchone()
        if row is None:
            raise NotFound(camera_name)
        return str(row["id"])

    def credentials(self, reg_id: str) -> tuple[str | None, str | None]:
        row = self._q(
            "SELECT username, password FROM credentials WHERE registration_id = ?", (reg_id,)
        ).fetchone()
        return (row["username"], row["password"]) if row else (None, None)

    def publishable(self) -> builtins.list[tuple[dict[str, Any], tuple[str | None, str | None]]]:
        """Active registrations with their credentials: what becomes camera sources.

        The one read that pairs the two tables, for the one consumer that needs both.
        """
        rows = self.list("active")
        return [(row, self.credentials(row["id"])) for row in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        rows = self._q(
            "SELECT status, district, COUNT(*) AS n FROM registrations GROUP BY status, district"
        )
        return {(r["status"], r["district"]): int(r["n"]) for r in rows}

    def audit(self, reg_id: str) -> builtins.list[dict[str, Any]]:
        rows = self._q(
            "SELECT at, actor, action, from_status, to_status, detail FROM audit_log "
            "WHERE registration_id = ? ORDER BY id",
            (reg_id,),
        )
        return [{**dict(r), "detail": json.loads(r["detail"] or "{}")} for r in rows]

    # -- writes -------------------------------------------------------------------------

    def _audit(
        self,
        reg_id: str,
        actor: str,
        action: str,
        before: str | None,
        after: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._q(
            "INSERT INTO audit_log (registration_id, at, actor, action, from_status, to_status,"
            " detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (reg_id, time.time(), actor, action, before, after, json.dumps(detail or {})),
        )

    def create(
        self,
        fields: dict[str, Any],
        username: str | None,
        password: str | None,
        actor: str,
        status: str = "pending",
        camera_prefix: str = "reg-",
        max_queued: int | None = None,
    ) -> str:
        """Insert a registration; `max_queued` caps pending + probing ones (QueueFull).

        The cap is checked inside the write transaction, so concurrent writers cannot
        overshoot it.
        """
        reg_id = new_id()
        now = time.time()
        row = {
            **fields,
            "id": reg_id,
            "camera_name": new_camera_name(camera_prefix),
            "status": status,
            "created_at": now,
            "updated_at": now,
            "consent_at": now,
        }
        columns = [c for c in PUBLIC_COLUMNS if c in row]
        with self._write():
            if max_queued is not None and self._queued() >= max_queued:
                raise QueueFull(f"{max_queued} registrations are waiting for a probe")
            self._q(
                f"INSERT INTO registrations ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                [row[c] for c in columns],
            )
            if username is not None or password is not None:
                self._q(
                    "INSERT INTO credentials (registration_id, username, password) "
                    "VALUES (?, ?, ?)",
                    (reg_id, username, password),
                )
            self._audit(reg_id, actor, "register", None, status, {"source": row["source"]})
        return reg_id

    def _queued(self) -> int:
        row = self._q(
            "SELECT COUNT(*) AS n FROM registrations WHERE status IN ('pending', 'probing')"
        ).fetchone()
        return int(row["n"])

    def _status(self, reg_id: str) -> str:
        row = self._q("SELECT status FROM registrations WHERE id = ?", (reg_id,)).fetchone()
        if row is None:
            raise NotFound(reg_id)
        return str(row["status"])

    def transition(
        self, reg_id: str, action: str, actor: str, detail: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Apply a lifecycle action atomically (read status, check, write, audit)."""
        with self._write():
            before = self._status(reg_id)
            after = target(action, before)
            self._q(
                "UPDATE registrations SET status = ?, updated_at = ? WHERE id = ?",
                (after, time.time(), reg_id),
            )
            self._audit(reg_id, actor, action, before, after, detail)
        return self.get(reg_id)

    def claim_for_probe(self, limit: int) -> builtins.list[dict[str, Any]]:
        """Move up to `limit` pending registrations to probing, as ours; return them.

        Read and update under the writer lock: no two replicas claim one registration.
        """
        with self._write():
            ids = [
                r["id"]
                for r in self._q(
                    "SELECT id FROM registrations WHERE status = 'pending' "
                    "ORDER BY updated_at LIMIT ?",
                    (limit,),
                )
            ]
            now = time.time()
            for reg_id in ids:
                self._q(
                    "UPDATE registrations SET status = 'probing', updated_at = ?, "
                    "probe_claimed_by = ?, probe_claimed_at = ? WHERE id = ?",
                    (now, str(self.claimer), now, reg_id),
                )
                self._audit(reg_id, "system", "probe_start", "pending", "probing")
        return [self.get(reg_id) for reg_id in ids]

    def recover_probes(self, stale_after: float = 600.0) -> int:
        """Registrations whose prober is gone (claims.py) go back to the queue."""
        now = time.time()
        candidates = self._q(
            "SELECT id, probe_claimed_by, probe_claimed_at FROM registrations "
            "WHERE status = 'probing'"
        ).fetchall()

        def dead(row: Any) -> bool:
            return claim_is_dead(
                row["probe_claimed_by"], row["probe_claimed_at"], self.claimer, now, stale_after
            )

        if not any(dead(r) for r in candidates):
            return 0  # the usual case: no write, no lock
        with self._write():
            rows = self._q(
                "SELECT id, probe_claimed_by, probe_claimed_at FROM registrations "
                "WHERE status = 'probing'"
            ).fetchall()
            ids = [r["id"] for r in rows if dead(r)]
            for reg_id in ids:
                self._q(
                    "UPDATE registrations SET status = 'pending', updated_at = ?, "
                    "probe_claimed_by = NULL, probe_claimed_at = NULL WHERE id = ?",
                    (time.time(), reg_id),
                )
                self._audit(reg_id, "system", "recover", "probing", "pending")
        return len(ids)

    def record_probe(
        self,
        reg_id: str,
        ok: bool,
        result: str,
        detail: str,
        pinned_address: str | None = None,
        width: int | None = None,
        height: int | None = None,
        codec: str | None = None,
    ) -> dict[str, Any]:
        action = "probe_ok" if ok else "probe_failed"
        with self._write():
            before = self._status(reg_id)
            try:
                after = target(action, before)
            except TransitionError:
                # edited or retired while the probe ran: keep the admin's decision
                self._audit(
                    reg_id, "system", f"{action}_discarded", before, before, {"result": result}
                )
                return self.get(reg_id)
            self._q(
                "UPDATE registrations SET status = ?, updated_at = ?, probe_result = ?, "
                "probe_detail = ?, probed_at = ?, width = ?, height = ?, codec = ?, "
                "pinned_address = COALESCE(?, pinned_address), probe_claimed_by = NULL, "
                "probe_claimed_at = NULL WHERE id = ?",
                (
                    after,
                    time.time(),
                    result,
                    detail,
                    time.time(),
                    width,
                    height,
                    codec,
                    pinned_address,
                    reg_id,
                ),
            )
            self._audit(reg_id, "system", action, before, after, {"result": result})
        return self.get(reg_id)

    def edit(
        self,
        reg_id: str,
        changes: dict[str, Any],
        actor: str,
        credentials: tuple[str | None, str | None] | None = None,
        reprobe: bool = False,
    ) -> dict[str, Any]:
        """Change fields; `reprobe` sends the registration back to `pending`."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
        with self._write():
            before = self._status(reg_id)
            if before == "retired":
                raise TransitionError("retire", before)
            after = "pending" if reprobe else before
            sets = {**changes, "status": after, "updated_at": time.time()}
            self._q(
                f"UPDATE registrations SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                [*sets.values(), reg_id],
            )
            changed = sorted(changes)
            if credentials is not None:
                changed.append("credentials")
                self._q("DELETE FROM credentials WHERE registration_id = ?", (reg_id,))
                if credentials != (None, None):
                    self._q(
                        "INSERT INTO credentials (registration_id, username, password) "
                        "VALUES (?, ?, ?)",
                        (reg_id, *credentials),
                    )
            # field names only: values may be contacts or credentials
            self._audit(reg_id, actor, "edit", before, after, {"fields": sorted(changed)})
        return self.get(reg_id)


class AsyncStore:
    """Runs a RegistryStore on one dedicated thread, off the event loop."""

    def __init__(self, target: Path | Backend) -> None:
        self.store = RegistryStore(target)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sitroom-registry")

    async def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: func(*args, **kwargs))

    async def open(self) -> None:
        await self.call(self.store.open)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.call(self.store.close)
        self._executor.shutdown(wait=False)
