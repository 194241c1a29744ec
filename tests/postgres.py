"""A real PostgreSQL server for tests: initdb into a temp dir, loopback port, stopped after.

Debian's `postgresql` package (make deps) puts the server under /usr/lib/postgresql/<v>/bin.
initdb refuses to run as root, so as root the cluster belongs to the `postgres` user and the
server runs as it (runuser). Host connections need a password (scram-sha-256), so the tests
exercise the password path the production overlay uses; the socket stays in the temp dir.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import IN_CI, free_port, wait_until

SUPERUSER = "postgres"


def postgres_bin() -> Path:
    """The newest installed server's bin directory; skip (locally) or fail (CI) if none."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: p.parts)
    if not found:
        message = "PostgreSQL is not installed (make deps installs Debian's postgresql)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found[-1].parent


def _as_owner(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", SUPERUSER, "--", *argv]


@dataclass
class PostgresServer:
    port: int
    password: str
    directory: Path
    databases: list[str] = field(default_factory=list)

    def dsn(self, database: str = "postgres") -> str:
        """A DSN without the password (give it apart, as the config does)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(self.dsn(database), password=self.password, autocommit=True)

    def new_database(self) -> str:
        """A fresh, empty database: each test gets its own registry."""
        name = f"reg_{secrets.token_hex(6)}"
        with self.connect() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        self.databases.append(name)
        return name

    def password_file(self, directory: Path) -> Path:
        path = directory / "pg-password"
        path.write_text(self.password + "\n")
        path.chmod(0o600)
        return path


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bindir = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="sitroom-pg-"))
    data, pwfile = root / "data", root / "pwfile"
    password = "pg-" + secrets.token_urlsafe(18)
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, SUPERUSER)
        shutil.chown(pwfile, SUPERUSER)
    subprocess.run(
        _as_owner(
            [
                str(bindir / "initdb"),
                "-D", str(data),
                "-U", SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        _as_owner(
            [
                str(bindir / "postgres"),
                "-D", str(data),
                "-p", str(port),
                "-k", str(root),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=60",
                "-c", "shared_buffers=16MB",
            ]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = PostgresServer(port, password, root)
    try:
        wait_until(lambda: server.connect().close() or True, timeout=30, what="postgres up")
        yield server
    finally:
        proc.terminate()  # smart shutdown: SIGTERM; then the fast one if it lingers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
