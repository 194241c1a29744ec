"""The store on both backends (SQLite and a real PostgreSQL): schema, durability settings,
lifecycle rules, credentials kept apart, claims that a restarting replica does not steal."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sitroom_registry.backends import PostgresBackend, SQLiteBackend
from sitroom_registry.claims import Claimer
from sitroom_registry.lifecycle import STATUSES, TRANSITIONS, TransitionError, target
from sitroom_registry.store import MIGRATIONS, QueueFull, RegistryStore
from tests.postgres import PostgresServer


def fields(**overrides: Any) -> dict[str, Any]:
    row = {
        "owner_name": "SD Negeri 1",
        "contact_phone": "0241234567",
        "contact_email": None,
        "owner_type": "school",
        "address": "Jl. Imam Bonjol 1",
        "district": "Semarang Utara",
        "location_name": None,
        "latitude": -6.97,
        "longitude": 110.41,
        "protocol": "rtsp",
        "host": "cam.example",
        "port": 554,
        "path": "/live",
        "pinned_address": "93.184.216.34",
        "source": "api",
    }
    row.update(overrides)
    return row


@pytest.fixture
def store(
    tmp_path: Path, backend_kind: str, request: pytest.FixtureRequest
) -> Iterator[RegistryStore]:
    """An open store on each backend: an SQLite file, or a fresh PostgreSQL database."""
    if backend_kind == "sqlite":
        s = RegistryStore(tmp_path / "sub" / "registry.sqlite3").open()
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        backend = PostgresBackend(server.dsn(server.new_database()), server.password)
        s = RegistryStore(backend).open()
    yield s
    s.close()


def test_schema_pragmas_and_permissions(tmp_path: Path) -> None:
    """SQLite's own settings; test_postgresql_schema_and_durability is the twin."""
    store = RegistryStore(tmp_path / "sub" / "registry.sqlite3").open()
    assert store.schema_version() == len(MIGRATIONS)
    conn = store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    # re-opening runs no migration twice
    again = RegistryStore(store.path).open()
    assert again.schema_version() == len(MIGRATIONS)
    again.close()
    store.close()


def test_credentials_live_apart(store: RegistryStore) -> None:
    reg_id = store.create(fields(), "admin", "hunter2-secret", "api")
    row = store.get(reg_id)
    assert "hunter2-secret" not in repr(row) and "password" not in row
    assert "hunter2-secret" not in repr(store.list()) + repr(store.audit(reg_id))
    assert store.credentials(reg_id) == ("admin", "hunter2-secret")
    with pytest.raises(store.backend.integrity_error):  # foreign keys are enforced
        store.conn.execute(
            "INSERT INTO credentials (registration_id, username) VALUES ('nope', 'x')"
        )


def test_lifecycle_table_is_enforced(store: RegistryStore) -> None:
    reg_id = store.create(fields(), None, None, "api")
    with pytest.raises(TransitionError):
        store.transition(reg_id, "approve", "alice")  # not probed yet
    assert [r["id"] for r in store.claim_for_probe(5)] == [reg_id]
    assert store.claim_for_probe(5) == []  # claimed once only
    store.record_probe(reg_id, True, "ok", "jpeg 320x240", "93.184.216.34", 320, 240, "jpeg")
    assert store.transition(reg_id, "approve", "alice")["status"] == "active"
    assert store.transition(reg_id, "suspend", "bob")["status"] == "suspended"
    assert store.transition(reg_id, "retire", "bob")["status"] == "retired"
    for action in TRANSITIONS:
        with pytest.raises(TransitionError):
            store.transition(reg_id, action, "mallory")
    with pytest.raises(TransitionError):
        store.edit(reg_id, {"owner_name": "X Y"}, "mallory")
    actions = [(a["action"], a["actor"]) for a in store.audit(reg_id)]
    assert actions == [
        ("register", "api"),
        ("probe_start", "system"),
        ("probe_ok", "system"),
        ("approve", "alice"),
        ("suspend", "bob"),
        ("retire", "bob"),
    ]


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_has_a_way_out_or_is_final(status: str) -> None:
    moves = [a for a in TRANSITIONS if status in TRANSITIONS[a][0]]
    assert bool(moves) == (status != "retired")
    for action in moves:
        assert target(action, status) in STATUSES


def test_probe_result_after_an_edit_is_discarded(store: RegistryStore) -> None:
    reg_id = store.create(fields(), None, None, "api")
    store.claim_for_probe(1)
    store.edit(reg_id, {"port": 8554}, "alice", reprobe=True)  # admin moved the stream
    row = store.record_probe(reg_id, True, "ok", "h264 1920x1080", None, 1920, 1080, "h264")
    assert row["status"] == "pending" and row["probe_result"] is None


def test_interrupted_probes_are_requeued(store: RegistryStore) -> None:
    """The same process restarted (same host and pid, a new start token) takes its claims back."""
    reg_id = store.create(fields(), None, None, "api")
    store.claim_for_probe(1)
    assert store.get(reg_id)["status"] == "probing"
    assert store.recover_probes() == 0  # our own live claim
    me = store.claimer
    restarted = RegistryStore(store.backend, Claimer(me.host, me.pid, "restarted")).open()
    try:
        assert restarted.recover_probes() == 1
    finally:
        restarted.close()
    assert store.get(reg_id)["status"] == "pending"
    assert store.audit(reg_id)[-1]["action"] == "recover"


def test_restarting_replica_leaves_live_claims_alone(store: RegistryStore) -> None:
    """Another host's fresh claim stays; a stale one, or a dead local process's, comes back."""
    other_host = RegistryStore(store.backend, Claimer("sitroom-1", 7, "abcd")).open()
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    me = store.claimer
    local_dead = RegistryStore(
        store.backend, Claimer(me.host, int(dead_pid.stdout), "dead")
    ).open()
    try:
        first = store.create(fields(), None, None, "api")
        assert [r["id"] for r in other_host.claim_for_probe(1)] == [first]
        second = store.create(fields(), None, None, "api")
        assert [r["id"] for r in local_dead.claim_for_probe(1)] == [second]
        restarted = RegistryStore(store.backend, Claimer(me.host, me.pid, "new")).open()
        try:
            assert restarted.recover_probes(stale_after=600) == 1  # the dead process's only
            assert store.get(first)["status"] == "probing"
            assert store.get(second)["status"] == "pending"
            time.sleep(0.05)
            assert restarted.recover_probes(stale_after=0.01) == 1  # the other host: stale
            assert store.get(first)["status"] == "pending"
            assert {r["id"] for r in restarted.claim_for_probe(5)} == {first, second}
        finally:
            restarted.close()
    finally:
        other_host.close()
        local_dead.close()


def test_two_stores_never_claim_one_registration(store: RegistryStore) -> None:
    a = RegistryStore(store.backend, Claimer("sitroom-0", 1, "a")).open()
    b = RegistryStore(store.backend, Claimer("sitroom-1", 1, "b")).open()
    try:
        ids = {store.create(fields(), None, None, "api") for _ in range(12)}
        claimed: list[str] = []
        while batch := a.claim_for_probe(2) + b.claim_for_probe(3):
            claimed += [r["id"] for r in batch]
        assert sorted(claimed) == sorted(ids)  # each exactly once
    finally:
        a.close()
        b.close()


def test_other_connections_bump_data_version(store: RegistryStore) -> None:
    before = store.data_version()
    other = RegistryStore(store.backend).open()
    other.create(fields(), None, None, "cli")
    other.close()
    assert store.data_version() != before
    assert store.counts() == {("pending", "Semarang Utara"): 1}


def test_unknown_edit_fields_are_refused(store: RegistryStore) -> None:
    reg_id = store.create(fields(), None, None, "api")
    with pytest.raises(ValueError, match="status"):
        store.edit(reg_id, {"status": "active"}, "mallory")


def test_camera_names_do_not_reveal_the_registration_id(store: RegistryStore) -> None:
    ids = [store.create(fields(), None, None, "api", camera_prefix="cam-") for _ in range(20)]
    names = [store.get(reg_id)["camera_name"] for reg_id in ids]
    assert len(set(names)) == len(names)
    for reg_id, name in zip(ids, names, strict=True):
        assert name.startswith("cam-") and reg_id not in name
        assert reg_id[:6] not in name  # no part of the id either
    # stored, so stable across restarts
    again = RegistryStore(store.backend).open()
    assert [again.get(reg_id)["camera_name"] for reg_id in ids] == names
    again.close()


def test_migration_renames_cameras_named_after_their_id(tmp_path: Path) -> None:
    """A database from before migration 2 (names were `<prefix><id>`) is renamed once."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    for statement in SQLiteBackend(path).render(MIGRATIONS[0]).split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (1, 0)")
    columns = dict(fields(), id="0123456789abcdef", camera_name="reg-0123456789abcdef",
                   status="active", created_at=0, updated_at=0, consent_at=0)
    conn.execute(
        f"INSERT INTO registrations ({', '.join(columns)}) VALUES "
        f"({', '.join('?' for _ in columns)})",
        list(columns.values()),
    )
    custom = dict(columns, id="fedcba9876543210", camera_name="lobby-camera")
    conn.execute(
        f"INSERT INTO registrations ({', '.join(custom)}) VALUES "
        f"({', '.join('?' for _ in custom)})",
        list(custom.values()),
    )
    conn.commit()
    conn.close()
    migrated = RegistryStore(path).open()
    try:
        renamed = migrated.get("0123456789abcdef")["camera_name"]
        assert renamed.startswith("reg-") and "0123456789abcdef" not in renamed
        assert len(renamed) == len("reg-") + 16
        assert migrated.get("fedcba9876543210")["camera_name"] == "lobby-camera"  # not an id
        assert migrated.schema_version() == len(MIGRATIONS)
    finally:
        migrated.close()


def test_queue_cap_counts_pending_and_probing_only(store: RegistryStore) -> None:
    first = store.create(fields(), None, None, "api", max_queued=2)
    store.create(fields(), None, None, "api", max_queued=2)
    with pytest.raises(QueueFull):
        store.create(fields(), None, None, "api", max_queued=2)
    store.claim_for_probe(1)  # probing still counts
    with pytest.raises(QueueFull):
        store.create(fields(), None, None, "api", max_queued=2)
    assert len(store.list()) == 2  # the refused ones left no row behind
    store.record_probe(first, False, "connect", "no")  # probed: out of the queue
    store.create(fields(), None, None, "api", max_queued=2)
    store.create(fields(), None, None, "api")  # the CLI and imports are not capped
    assert len(store.list()) == 4


def test_postgresql_schema_and_durability(tmp_path: Path, postgres: PostgresServer) -> None:
    """Dialect: DOUBLE PRECISION timestamps, a BIGSERIAL audit id, synchronous commits."""
    backend = PostgresBackend(postgres.dsn(postgres.new_database()), postgres.password)
    store = RegistryStore(backend).open()
    try:
        assert store.schema_version() == len(MIGRATIONS)
        sync = store.conn.execute("SHOW synchronous_commit").fetchone()
        assert sync["synchronous_commit"] == "on"
        types = {
            r["column_name"]: r["data_type"]
            for r in store.conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name IN ('registrations', 'audit_log')"
            )
        }
        assert types["created_at"] == types["probe_claimed_at"] == "double precision"
        assert types["latitude"] == types["at"] == "double precision"
        assert types["id"] in ("text", "bigint")
        audit_id = store.conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'audit_log' AND column_name = 'id'"
        ).fetchone()["data_type"]
        assert audit_id == "bigint"
        again = RegistryStore(backend).open()  # a second replica migrates nothing twice
        assert again.schema_version() == len(MIGRATIONS)
        again.close()
        assert "password" not in backend.describe() and postgres.password not in repr(
            backend.describe()
        )
    finally:
        store.close()


def test_postgresql_unreachable_is_a_clear_error(postgres: PostgresServer) -> None:
    wrong = PostgresBackend(postgres.dsn(), "not-the-password-123", connect_timeout=2)
    with pytest.raises(ConnectionError, match="password authentication failed") as caught:
        RegistryStore(wrong).open()
    assert "not-the-password-123" not in str(caught.value)


def test_postgresql_config_keeps_the_password_apart(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from sitroom_registry.config import RegistryConfig

    base = {"kind": "camera_registry", "name": "registry"}
    with pytest.raises(ValidationError, match="dsn holds a password"):
        RegistryConfig.model_validate(
            {**base, "postgresql": {"dsn": "postgresql://u:hunter22@db.example/reg"}}
        )
    with pytest.raises(ValidationError, match="postgresql://USER@HOST/DB"):
        RegistryConfig.model_validate({**base, "postgresql": {"dsn": "mysql://db/reg"}})
    with pytest.raises(ValidationError, match="not both"):
        RegistryConfig.model_validate(
            {**base, "database": "x.sqlite3", "postgresql": {"dsn": "postgresql://u@db/reg"}}
        )
    secret = tmp_path / "pg-password"
    secret.write_text("from-a-file-123\n")
    config = RegistryConfig.model_validate(
        {**base, "postgresql": {"dsn": "postgresql://u@db/reg", "password_file": str(secret)}}
    )
    assert config.postgresql is not None
    assert config.postgresql.password.get_secret_value() == "from-a-file-123"  # type: ignore[union-attr]
    assert "from-a-file-123" not in repr(config)
