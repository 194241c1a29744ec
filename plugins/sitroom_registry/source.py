"""The `camera_registry` source: owns the store, runs the probe worker, publishes cameras.

One streaming source per registry. `run()` opens the store (SQLite, or PostgreSQL shared by
every replica), puts registrations whose prober is gone back in the queue (at start, and
every so often: a replica may die and never come back), then loops: claim pending
registrations for probing (bounded concurrency), and whenever anything changed (our own
writes, another replica's, or the `sitroom cameras` CLI's) republish the active cameras and
refresh the metrics. The HTTP routes call the methods below; they never touch the database.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import ipaddress
import json
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sitroom.api import NetGuard, SourceContext, StreamingSource
from sitroom_registry import metrics as rm
from sitroom_registry.backends import Backend, PostgresBackend, SQLiteBackend
from sitroom_registry.config import RegistryConfig
from sitroom_registry.models import (
    DetailsIn,
    FieldError,
    InvalidRequest,
    RegistrationIn,
    StreamEditIn,
    check_stream,
    parse_model,
)
from sitroom_registry.probe import ProbeTarget, probe
from sitroom_registry.ratelimit import TokenBucketLimiter
from sitroom_registry.store import AsyncStore, NotFound, QueueFull

DB_FILENAME = "registry.sqlite3"
PROBE_FRAMES = 200
REG_ID = re.compile(r"^[0-9a-f]{16}$")


def camera_config(
    row: dict[str, Any], creds: tuple[str | None, str | None], defaults: dict[str, Any]
) -> dict[str, Any]:
    """The `camera` source an active registration becomes (see the contract in README)."""
    host = row["host"]
    host = f"[{host}]" if ":" in host else host
    config: dict[str, Any] = {
        **defaults,
        "kind": "camera",
        "name": row["camera_name"],
        "url": f"{row['protocol']}://{host}:{row['port']}{row['path']}",
        "pin_address": row["pinned_address"],
        "transport": transport_for(row),
        "follow_redirects": False,
        "district": row["district"],
        "latitude": row["latitude"],
        "longitude": row["longitude"],
        "owner_type": row["owner_type"],
        # a public place name, never the owner's street address
        "location": row["location_name"] or row["district"],
    }
    username, password = creds
    if username is not None:
        config["username"] = username
    if password is not None:
        config["password"] = password
    return config


def transport_for(row: dict[str, Any]) -> str:
    """What the probe saw decides how the camera is read (a `.cgi` may serve snapshots)."""
    if row["protocol"] == "rtsp":
        return "rtsp_tcp"
    return {"jpeg": "snapshot", "mjpeg": "mjpeg"}.get(row.get("codec") or "", "auto")


def default_db_path(state_dir: Path, name: str) -> Path:
    """Where `ctx.state_path` puts the database; the CLI finds it the same way."""
    return Path(state_dir) / "camera_registry" / f"{name}.{DB_FILENAME}"



def log_ref(reg_id: str) -> str:
    """What logs call a registration: the first 12 hex digits of SHA-256 of its id.

    The id itself is the citizen's status-page capability and must not sit in log files;
    the hash still ties a registration's log lines together, and an admin holding the id
    finds them with `printf %s ID | sha256sum | cut -c1-12`.
    """
    return hashlib.sha256(reg_id.encode()).hexdigest()[:12]
def backend_for(config: RegistryConfig, default_path: Path) -> Backend:
    """The backend a registry's config names (the daemon and the CLI both ask here)."""
    if config.postgresql is not None:
        pg = config.postgresql
        password = pg.password.get_secret_value() if pg.password is not None else None
        return PostgresBackend(pg.dsn, password, pg.connect_timeout)
    return SQLiteBackend(config.database or default_path)


def claim_stale_after(config: RegistryConfig) -> float:
    """No probe outlives this (it is bounded by probe_timeout): an older claim is orphaned."""
    return 3 * config.probe_timeout + 60.0


class RegistryUnavailable(Exception):
    """The store is not open (starting, or restarting after an error): HTTP 503."""


class RegistryBusy(Exception):
    """`max_pending` registrations already wait for a probe: HTTP 503 with Retry-After."""

    retry_after = 60


class RegistrySource(StreamingSource):
    config: RegistryConfig

    def __init__(self, config: RegistryConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.guard = NetGuard(config.allow_networks, config.allowed_ports)
        self.trusted_proxies = tuple(
            ipaddress.ip_network(n, strict=False) for n in config.trusted_proxies
        )
        reg, status = config.registration_limit, config.status_limit
        self.register_limiter = TokenBucketLimiter(reg.per_minute, reg.burst, reg.max_clients)
        self.status_limiter = TokenBucketLimiter(
            status.per_minute, status.burst, status.max_clients
        )
        self._store: AsyncStore | None = None
        self._wake = asyncio.Event()
        self._published: str | None = None
        self._probes: set[asyncio.Task[None]] = set()
        # what each probe saw (small JPEGs, newest PROBE_FRAMES kept), for the approval
        # queue; in memory only: after a restart the operator reprobes to see one again
        self.probe_frames: OrderedDict[str, bytes] = OrderedDict()

    # -- lifetime -------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        return backend_for(self.config, self.ctx.state_path(DB_FILENAME))

    @property
    def store(self) -> AsyncStore:
        if self._store is None:
            raise RegistryUnavailable("the registry is starting")
        return self._store

    async def run(self) -> None:
        rm.initialise(self.metrics)
        backend = self.backend
        store = AsyncStore(backend)
        try:
            await store.open()
        except BaseException:
            await store.close()
            raise
        stale_after = claim_stale_after(self.config)
        try:
            self._store = store
            self.ctx.set_detail("database", backend.describe())
            version = -1
            next_recovery = 0.0
            while True:
                if time.monotonic() >= next_recovery:
                    recovered = await store.call(store.store.recover_probes, stale_after)
                    if recovered:
                        self.log.info("registry_probes_requeued", registrations=recovered)
                    next_recovery = time.monotonic() + stale_after / 2
                free = self.config.probe_concurrency - len(self._probes)
                if free > 0:
                    self._claim_probes(await store.call(store.store.claim_for_probe, free))
                current = await store.call(store.store.data_version)
                if current != version or self._wake.is_set():
                    self._wake.clear()
                    version = current
                    await self.refresh()
                self.ctx.mark_success()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.refresh_interval)
        finally:
            self._store = None
            for task in self._probes:
                task.cancel()
            if self._probes:
                await asyncio.gather(*self._probes, return_exceptions=True)
            await store.close()

    def changed(self) -> None:
        """Our own write: refresh metrics and published cameras now, not at the next tick."""
        self._wake.set()

    # -- publishing and metrics ---------------------------------------------------------

    async def refresh(self) -> None:
        store = self.store
        counts = await store.call(store.store.counts)
        rm.set_counts(self.metrics, counts)
        active = await store.call(store.store.publishable)
        defaults = self.config.camera_defaults
        configs = [camera_config(row, creds, defaults) for row, creds in active]
        fingerprint = hashlib.sha256(
            json.dumps(configs, sort_keys=True, default=str).encode()
        ).hexdigest()
        if fingerprint != self._published:
            await self.ctx.publish_sources(configs)
            self._published = fingerprint
            self.metrics.set(rm.PUBLISHED, len(configs))
            self.log.info("registry_cameras_published", cameras=len(configs))

    # -- probing --------------------------------------------------------------------------

    def _claim_probes(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            task = asyncio.get_running_loop().create_task(self._probe_one(row))
            self._probes.add(task)
            task.add_done_callback(self._probe_done)

    def _probe_done(self, task: asyncio.Task[None]) -> None:
        self._probes.discard(task)
        self._wake.set()  # a slot is free: claim the next one
        if not task.cancelled() and (exc := task.exception()) is not None:
            # the store failed under the probe; the row stays `probing` until its claim
            # is recovered (a restart, or staleness). The type is enough: messages may
            # quote stored values.
            self.log.error("registry_probe_crashed", error=type(exc).__name__)

    async def _probe_one(self, row: dict[str, Any]) -> None:
        store = self.store
        username, password = await store.call(store.store.credentials, row["id"])
        target = ProbeTarget(
            row["protocol"], row["host"], row["port"], row["path"], username, password
        )
        started = time.perf_counter()
        result = await probe(
            target,
            self.guard,
            self.config.probe_timeout,
            self.config.probe_max_bytes,
            self.ctx.run_blocking,
        )
        self.metrics.observe(rm.PROBE_DURATION, time.perf_counter() - started)
        if result.frame is not None:
            self.probe_frames[row["id"]] = result.frame
            self.probe_frames.move_to_end(row["id"])
            while len(self.probe_frames) > PROBE_FRAMES:
                self.probe_frames.popitem(last=False)
        self.metrics.inc(rm.PROBES, result=result.result)
        await store.call(
            store.store.record_probe,
            row["id"],
            result.ok,
            result.result,
            result.detail,
            result.address,
            result.width,
            result.height,
            result.codec,
        )
        self.log.info(
            "registration_probed",
            registration=log_ref(row["id"]),
            result=result.result,
            protocol=row["protocol"],
        )

    # -- operations the routes and tests call ---------------------------------------------

    async def register(self, data: Any, actor: str = "api") -> dict[str, Any]:
        """Validate, guard, store (committed before returning). Raises InvalidRequest."""
        try:
            form = parse_model(RegistrationIn, data, self.config.bbox)
        except InvalidRequest as exc:
            raise InvalidRequest(exc.errors + await self._stream_errors(data)) from None
        spec = await check_stream(form.stream, self.guard)
        store = self.store
        fields = {
            **form.model_dump(exclude={"stream", "consent"}),
            "protocol": spec.protocol,
            "host": spec.host,
            "port": spec.port,
            "path": spec.path,
            "pinned_address": spec.address,
            "source": "api",
        }
        try:
            reg_id = await store.call(
                store.store.create,
                fields,
                spec.username,
                spec.password,
                actor,
                camera_prefix=self.config.camera_prefix,
                max_queued=self.config.max_pending,
            )
        except QueueFull:
            self.metrics.inc(rm.REQUESTS, endpoint="register", result="busy")
            self.log.warning("registration_queue_full", max_pending=self.config.max_pending)
            raise RegistryBusy() from None
        self.changed()
        self.log.info(
            "registration_received",
            registration=log_ref(reg_id),
            district=form.district,
            owner_type=form.owner_type,
            protocol=spec.protocol,
        )
        return await store.call(store.store.get, reg_id)

    async def _stream_errors(self, data: Any) -> list[FieldError]:
        """The stream address's own errors when other fields failed, so a form shows all
        at once; empty when the stream's shape already failed (pydantic reported it)."""
        if not isinstance(data, dict) or not isinstance(data.get("stream"), dict):
            return []
        try:
            stream = parse_model(StreamEditIn, {"stream": data["stream"]}, self.config.bbox)
        except InvalidRequest:
            return []  # already among pydantic's errors
        try:
            await check_stream(stream.stream, self.guard)
        except InvalidRequest as exc:
            return exc.errors
        return []

    async def get(self, reg_id: str) -> dict[str, Any]:
        store = self.store
        row = await store.call(store.store.get, reg_id)
        username, password = await store.call(store.store.credentials, reg_id)
        return {**row, "has_credentials": username is not None or password is not None}

    async def list(
        self, status: str | Sequence[str] | None = None, district: str | None = None
    ) -> list[dict[str, Any]]:
        store = self.store
        return await store.call(store.store.list, status, district)

    async def audit(self, reg_id: str) -> builtins.list[dict[str, Any]]:
        store = self.store
        await store.call(store.store.get, reg_id)  # 404 for unknown ids
        return await store.call(store.store.audit, reg_id)

    async def resolve(self, ident: str) -> str:
        """A camera name (the API's identifier) or, deprecated, a registration id -> the id."""
        store = self.store
        try:
            return await store.call(store.store.id_of_camera, ident)
        except NotFound:
            if REG_ID.match(ident):
                return ident
            raise

    async def act(
        self, reg_id: str, action: str, actor: str, reason: str | None = None
    ) -> dict[str, Any]:
        store = self.store
        detail = {"reason": reason} if reason else None
        row = await store.call(store.store.transition, reg_id, action, actor, detail)
        self.metrics.inc(rm.ADMIN, action=action)
        self.log.info(
            "registration_changed",
            registration=log_ref(reg_id),
            action=action,
            status=row["status"],
            actor=actor,
        )
        self.changed()
        return row

    async def edit(self, reg_id: str, data: Any, actor: str) -> dict[str, Any]:
        """Change details; a new stream address is guarded again and re-probed."""
        store = self.store
        if not isinstance(data, dict):
            parse_model(DetailsIn, data, self.config.bbox)  # raises the uniform error
        current = await store.call(store.store.get, reg_id)
        detail_fields = set(DetailsIn.model_fields)
        details = {k: v for k, v in data.items() if k != "stream"}
        merged = {k: current[k] for k in detail_fields} | details
        form = parse_model(DetailsIn, merged, self.config.bbox)
        changes = {k: v for k, v in form.model_dump().items() if k in details}
        credentials = None
        reprobe = False
        if "stream" in data:
            stream = parse_model(StreamEditIn, {"stream": data["stream"]}, self.config.bbox).stream
            spec = await check_stream(stream, self.guard)
            changes |= {
                "protocol": spec.protocol,
                "host": spec.host,
                "port": spec.port,
                "path": spec.path,
                "pinned_address": spec.address,
            }
            credentials = (spec.username, spec.password)
            reprobe = True
        row = await store.call(store.store.edit, reg_id, changes, actor, credentials, reprobe)
        self.metrics.inc(rm.ADMIN, action="edit")
        self.log.info(
            "registration_changed",
            registration=log_ref(reg_id),
            action="edit",
            fields=sorted(changes),
            status=row["status"],
            actor=actor,
        )
        self.changed()
        return row

    async def sd_targets(self) -> builtins.list[dict[str, Any]]:
        """Prometheus HTTP SD groups: host:port per active camera, descriptive labels."""
        rows = await self.list("active")
        groups = []
        for row in rows:
            host = f"[{row['host']}]" if ":" in row["host"] else row["host"]
            groups.append(
                {
                    "targets": [f"{host}:{row['port']}"],
                    "labels": {
                        "__meta_sitroom_registry": self.config.name,
                        "__meta_sitroom_camera": row["camera_name"],
                        "__meta_sitroom_protocol": row["protocol"],
                        "__meta_sitroom_district": row["district"],
                        "__meta_sitroom_owner_type": row["owner_type"],
                        "__meta_sitroom_latitude": str(row["latitude"]),
                        "__meta_sitroom_longitude": str(row["longitude"]),
                    },
                }
            )
        return groups
