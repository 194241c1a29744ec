"""The SQLite store: schema, durability settings, lifecycle rules, credentials kept apart."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from sitroom_registry.lifecycle import STATUSES, TRANSITIONS, TransitionError, target
from sitroom_registry.store import MIGRATIONS, QueueFull, RegistryStore


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
def store(tmp_path: Path) -> RegistryStore:
    s = RegistryStore(tmp_path / "sub" / "registry.sqlite3").open()
    yield s
    s.close()


def test_schema_pragmas_and_permissions(store: RegistryStore) -> None:
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


def test_credentials_live_apart(store: RegistryStore) -> None:
    reg_id = store.create(fields(), "admin", "hunter2-secret", "api")
    row = store.get(reg_id)
    assert "hunter2-secret" not in repr(row) and "password" not in row
    assert "hunter2-secret" not in repr(store.list()) + repr(store.audit(reg_id))
    assert store.credentials(reg_id) == ("admin", "hunter2-secret")
    with pytest.raises(sqlite3.IntegrityError):  # foreign keys are enforced
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
    reg_id = store.create(fields(), None, None, "api")
    store.claim_for_probe(1)
    assert store.get(reg_id)["status"] == "probing"
    assert store.recover_probes() == 1
    assert store.get(reg_id)["status"] == "pending"


def test_other_connections_bump_data_version(store: RegistryStore) -> None:
    before = store.data_version()
    other = RegistryStore(store.path).open()
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
    again = RegistryStore(store.path).open()
    assert [again.get(reg_id)["camera_name"] for reg_id in ids] == names
    again.close()


def test_migration_renames_cameras_named_after_their_id(tmp_path: Path) -> None:
    """A database from before migration 2 (names were `<prefix><id>`) is renamed once."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    for statement in MIGRATIONS[0].split(";"):
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
