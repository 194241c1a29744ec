"""The `camera_registry` source's configuration: where the database lives and the policy."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from sitroom.api import Cidr, ConfigModel, ConfigPath, Duration, SourceConfig

# Ports cameras commonly serve on: HTTP(S) snapshots and MJPEG, RTSP and its alternates.
DEFAULT_PORTS = [80, 81, 88, 443, 554, 8000, 8080, 8081, 8443, 8554, 10554]


class BoundingBox(ConfigModel):
    """Registrations must lie inside the city (default: Kota Semarang, generously)."""

    lat_min: float = Field(default=-7.15, ge=-90, le=90)
    lat_max: float = Field(default=-6.90, ge=-90, le=90)
    lon_min: float = Field(default=110.25, ge=-180, le=180)
    lon_max: float = Field(default=110.52, ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> BoundingBox:
        if self.lat_min >= self.lat_max or self.lon_min >= self.lon_max:
            raise ValueError("bbox: lat_min < lat_max and lon_min < lon_max are required")
        return self


class RateLimit(ConfigModel):
    """A token bucket per client address: `burst` at once, then `per_minute` sustained."""

    per_minute: float = Field(default=6.0, gt=0, le=60_000)
    burst: int = Field(default=5, ge=1, le=10_000)
    max_clients: int = Field(
        default=10_000, ge=1, le=10_000_000,
        description="Buckets kept in memory (oldest dropped first).",
    )


class PostgresConfig(ConfigModel):
    """A PostgreSQL database every replica shares (psycopg 3, in the registry extra).

    The password stays out of the DSN: give `password_file` (a mounted Secret), `password:
    ${ENV}`, or let libpq find it (PGPASSWORD, ~/.pgpass). The DSN is shown redacted.
    """

    dsn: str = Field(
        description="postgresql://USER@HOST:PORT/DB?sslmode=verify-full (no password in it); "
        "one database, or one schema via options=-csearch_path%3DNAME, per registry."
    )
    password: SecretStr | None = None
    connect_timeout: Duration = Field(default=10.0, gt=0, le=120)

    @field_validator("dsn")
    @classmethod
    def _dsn(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise ValueError("dsn must be a postgresql://USER@HOST/DB URL")
        if parts.password is not None:
            raise ValueError(
                "dsn holds a password: give it as password_file or password: ${ENV} instead"
            )
        return value


class RegistryConfig(SourceConfig):
    kind: str = "camera_registry"
    database: ConfigPath | None = Field(
        default=None,
        description="SQLite file; default <state_dir>/camera_registry/<name>.registry.sqlite3.",
    )
    postgresql: PostgresConfig | None = Field(
        default=None,
        description="Keep the registry in PostgreSQL instead, shared by every replica.",
    )
    bbox: BoundingBox = BoundingBox()
    allow_networks: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs reachable although private/loopback (the city's camera VPN).",
    )
    allowed_ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        default_factory=lambda: list(DEFAULT_PORTS), min_length=1, max_length=1024)
    trusted_proxies: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs of reverse proxies whose X-Forwarded-For names the real client.",
    )
    registration_limit: RateLimit = RateLimit()
    status_limit: RateLimit = RateLimit(per_minute=60, burst=20)
    max_pending: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Registrations waiting for or in a probe, from all clients together; "
        "beyond it the public form answers 503 with Retry-After (a distributed flood cannot "
        "fill the database or the probe queue).",
    )
    probe_timeout: Duration = Field(default=10.0, gt=0, le=120)
    probe_max_bytes: int = Field(default=4_000_000, ge=1024, le=64_000_000)
    probe_concurrency: int = Field(default=2, ge=1, le=32)
    refresh_interval: Duration = Field(
        default=2.0, gt=0, description="How often to notice changes made by `sitroom cameras`."
    )
    camera_prefix: str = Field(default="reg-", pattern=r"^[a-z0-9][a-z0-9_.-]{0,20}$")
    camera_defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields merged into every published camera (e.g. analysis_interval).",
    )

    @model_validator(mode="after")
    def _one_backend(self) -> RegistryConfig:
        if self.database is not None and self.postgresql is not None:
            raise ValueError("give either database (SQLite) or postgresql, not both")
        return self

    @field_validator("allowed_ports")
    @classmethod
    def _ports(cls, values: list[int]) -> list[int]:
        if any(not 0 < p < 65536 for p in values):
            raise ValueError("ports must be in 1..65535")
        return values

    @field_validator("camera_defaults")
    @classmethod
    def _defaults(cls, values: dict[str, Any]) -> dict[str, Any]:
        reserved = {"kind", "name", "url", "username", "password", "pin_address"}
        if clash := sorted(reserved & set(values)):
            raise ValueError(f"camera_defaults may not set {', '.join(clash)}")
        return values
