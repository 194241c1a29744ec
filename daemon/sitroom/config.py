"""Loading `conf.d/*.yaml` into validated models, with errors an operator can act on.

Every error names the file, the source (name and kind) and the field, because at 3 a.m. the
person reading it has a config directory of dozens of files and no debugger.
"""

from __future__ import annotations

import importlib
import ipaddress
import math
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sitroom.secrets import RedactionRegistry

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SOURCE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
MAX_DURATION_SECONDS = 365 * 86400.0
"""No setting of a monitoring daemon means more than a year; 1e30 days is a typo or an attack
(and overflows timers downstream)."""
MAX_CONFIG_DEPTH = 32
"""Nesting levels a config file may have; the deepest real setting is under 10."""
MAX_CONFIG_NODES = 1_000_000
"""Values a config file may expand to, counting every YAML alias expansion."""
MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024


def parse_duration(value: Any) -> float:
    """Accept `15`, `2.5`, `"500ms"`, `"30s"`, `"5m"`, `"1h"` as seconds (Prometheus style),
    from 0 to MAX_DURATION_SECONDS (365d)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m or 1h")
    try:
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str) and (match := _DURATION.match(value)):
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        else:
            raise ValueError(f"expected a duration such as 30s, 5m or 1h, got {value!r}")
    except OverflowError:
        seconds = math.inf
    if math.isnan(seconds):
        raise ValueError("expected a duration such as 30s, 5m or 1h, got NaN")
    if seconds < 0:
        raise ValueError("duration must not be negative")
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(
            f"duration must be at most 365d ({int(MAX_DURATION_SECONDS)}s)")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def resolve_path(value: str, info: ValidationInfo | None) -> Path:
    """Relative paths in a config file are relative to its config directory (like Prometheus),
    so `sitroom run --config-dir /etc/sitroom` works from any working directory."""
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir") if info is not None else None
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return path


def _to_config_path(value: Any, info: ValidationInfo) -> Path:
    if not isinstance(value, str | Path):
        raise ValueError("expected a file path")
    return resolve_path(str(value), info)


ConfigPath = Annotated[Path, BeforeValidator(_to_config_path)]


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"not a CIDR network: {value!r}") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
"""An IP network such as `10.20.0.0/16` (a bare address is a /32): allow-lists, proxies."""


class _MustExist:
    """Marks an `InputFile` field: `sitroom check-config` requires the file to be readable."""

    def __repr__(self) -> str:
        return "MustExist"


MUST_EXIST = _MustExist()

InputFile = Annotated[Path, BeforeValidator(_to_config_path), MUST_EXIST]
"""A config path to a file sitroom reads (a CSV export, a profile, a CA bundle).

Validation does not require it, so a daemon that starts before a nightly export has landed
keeps the source, reports it down and recovers once the file appears; `check-config`, what
an operator or a pipeline runs before a rollout, does (see sitroom.inputfiles)."""


def _expand_env(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REF.sub(replace, value)


class ConfigModel(BaseModel):
    """Base for every config model, core and plugin alike.

    Unknown keys are errors (a typo must not silently disable a threshold). Every `SecretStr`
    field `x` may instead be given as `x_file: /path` (read and stripped) or as a string with
    `${ENV}` references, so that examples never hold a secret inline.
    """

    # NaN and infinities are never a setting: `.inf` as a threshold or scale is a typo
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve_secrets(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for name, field_info in cls.model_fields.items():
            if not _is_secret(field_info.annotation):
                continue
            file_key = f"{name}_file"
            if file_key in data:
                if data.get(name) is not None:
                    raise ValueError(f"give either {name} or {file_key}, not both")
                path = resolve_path(str(data.pop(file_key)), info)
                try:
                    data[name] = path.read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ValueError(f"{file_key}: cannot read {path}: {exc.strerror}") from None
            elif isinstance(data.get(name), str):
                data[name] = _expand_env(data[name])
        return data


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return SecretStr in getattr(annotation, "__args__", ())


class SourceConfig(ConfigModel):
    """Fields every source has. Plugin config models subclass this and add their own."""

    kind: str
    name: str = Field(pattern=SOURCE_NAME_PATTERN)
    interval: Duration = Field(default=15.0, gt=0, description="Time between polls.")
    timeout: Duration = Field(default=10.0, gt=0, description="Bound on one poll.")
    stale_after: Duration = Field(
        default=300.0, gt=0, description="Push sources: drop series not refreshed this long."
    )
    enabled: bool = True


class TokenConfig(ConfigModel):
    """A bearer token with a scope, for a machine (Grafana, Prometheus, an ingest script)."""

    name: str = Field(pattern=r"^[A-Za-z0-9@._:-]{1,64}$")
    scope: Literal["viewer", "operator", "admin"]
    token: SecretStr = Field(description="Give token_file; at least 16 characters.")

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("token: at least 16 characters")
        return value


class UserConfig(ConfigModel):
    """A person who logs in to /console: a scope and a scrypt hash (`sitroom hash-password`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9@._-]{1,64}$")
    scope: Literal["viewer", "operator", "admin"]
    password_hash: SecretStr = Field(description="Give password_hash_file.")

    @field_validator("password_hash")
    @classmethod
    def _hash_format(cls, value: SecretStr) -> SecretStr:
        from sitroom.auth import check_hash_format

        check_hash_format(value.get_secret_value())
        return value


class AuthConfig(ConfigModel):
    """Who may do what: scoped bearer tokens, console users, the session cookie.

    `token` (give `token_file`) is the original single API token: it has the `admin` scope.
    """

    token: SecretStr | None = None
    tokens: list[TokenConfig] = Field(default_factory=list)
    users: list[UserConfig] = Field(default_factory=list)
    session_ttl: Duration = Field(default=8 * 3600.0, gt=0, le=7 * 86400)
    cookie_secure: bool = Field(
        default=True,
        description="Mark the session cookie Secure (sent over HTTPS only). Turn off only "
        "when the console is reached over plain HTTP on loopback (demo, tests).",
    )
    generate_if_missing: bool = Field(
        default=False,
        description="Create token_file with a random token when absent (demo setups).",
    )

    @model_validator(mode="before")
    @classmethod
    def _generate_token_file(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, Mapping) and data.get("generate_if_missing") and data.get("token_file"):
            path = resolve_path(str(data["token_file"]), info)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(32) + "\n")
        return data


class WebConfig(ConfigModel):
    """The pages: an optional map tile source (an air-gapped city leaves it out)."""

    tile_url: str | None = Field(
        default=None,
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]+)?/[^\s\"'<>]*\{z\}[^\s\"'<>]*$",
        description="Slippy-map tiles, e.g. https://tiles.example.id/{z}/{x}/{y}.png; "
        "absent: no map, coordinates are typed.",
    )
    tile_attribution: str = Field(default="", max_length=200)
    trusted_proxies: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs of reverse proxies whose X-Forwarded-For names the client "
        "(login rate limits).",
    )
    login_per_minute: float = Field(default=10.0, gt=0, le=600)
    login_burst: int = Field(default=5, ge=1, le=100)

    @property
    def tile_origin(self) -> str | None:
        """`https://host[:port]`: what the Content-Security-Policy lets images load from."""
        if self.tile_url is None:
            return None
        scheme, _, rest = self.tile_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"


class LimitsConfig(ConfigModel):
    max_series_per_source: int = Field(default=10_000, ge=1, le=10_000_000)
    blocking_workers: int = Field(default=4, ge=1, le=256)
    shutdown_timeout: Duration = 10.0
    max_backoff: Duration = Field(default=300.0, gt=0)


def _check_base_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError(f"{what} must not carry credentials (they would end up in logs)")
    if parts.query or parts.fragment:
        raise ValueError(f"{what} must not have a query or fragment")
    return value.rstrip("/")


class MqttEventsConfig(ConfigModel):
    """Publish events and source availability to an MQTT broker (Frigate's topic shape)."""

    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    topic_prefix: str = Field(default="sitroom", pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    client_id: str = Field(default="sitroom-events", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    queue_capacity: int = Field(default=10_000, ge=10, le=1_000_000)

    @model_validator(mode="after")
    def _client_installed(self) -> MqttEventsConfig:
        try:
            importlib.import_module("aiomqtt")
        except ImportError:
            raise ValueError("MQTT events need aiomqtt, which is not installed: "
                             "pip install 'sitroom[events-mqtt]'") from None
        return self


class AlertingConfig(ConfigModel):
    """The event path's delivery: Alertmanager push (v2 API) and optional MQTT."""

    alertmanagers: list[str] = Field(
        default_factory=list, max_length=16,
        description="Alertmanager base URLs; every event goes to each (HA pairs dedupe).")
    resend_interval: Duration = Field(
        default=60.0, ge=1.0, le=3600.0,
        description="Active events are re-sent this often; endsAt is 4 intervals ahead.")
    timeout: Duration = Field(default=5.0, gt=0, le=60.0, description="Bound on one POST.")
    queue_capacity: int = Field(
        default=10_000, ge=10, le=1_000_000,
        description="Alerts queued per Alertmanager before the oldest is dropped.")
    max_batch: int = Field(default=64, ge=1, le=1000, description="Alerts per POST.")
    retry_max_backoff: Duration = Field(
        default=10.0, ge=0.1, le=300.0, description="Cap on the delay between retries.")
    external_url: str | None = Field(
        default=None,
        description="How receivers reach this daemon (snapshot links, generatorURL); "
        "default http://<listen address>.")
    snapshot_link_ttl: Duration = Field(
        default=86_400.0, ge=60.0, le=30 * 86_400.0,
        description="How long a signed snapshot link in a notification stays valid.")
    mqtt: MqttEventsConfig | None = None

    @field_validator("alertmanagers")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        checked = [_check_base_url(url, "alertmanagers entry") for url in value]
        if len(set(checked)) != len(checked):
            raise ValueError("an Alertmanager is listed twice")
        return checked

    @field_validator("external_url")
    @classmethod
    def _external(cls, value: str | None) -> str | None:
        return None if value is None else _check_base_url(value, "external_url")


class DaemonConfig(ConfigModel):
    listen: str = ":9750"
    state_dir: str = Field(
        default="state",
        description="Where sources keep small state files (relative to the config dir).",
    )
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error)$")
    auth: AuthConfig = AuthConfig()
    web: WebConfig = WebConfig()
    limits: LimitsConfig = LimitsConfig()
    alerting: AlertingConfig = AlertingConfig()
    city: str = "Semarang"
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$",  # no credentials: it is public
        description="Where people's browsers reach this daemon (e.g. behind a reverse "
        "proxy). Alert runbook links and the boards' runbook links point at its "
        "/docs/runbooks; default: http://localhost:<port it listens on>.",
    )

    def state_path(self, config_dir: Path) -> Path:
        """The state directory this config names: relative paths count from the config dir.

        The one place the rule lives, so the daemon and a plugin's CLI (which opens a
        source's state file while the daemon may be down) always agree on it.
        """
        path = Path(self.state_dir)
        return path if path.is_absolute() else Path(config_dir) / path


@dataclass
class RawSource:
    """A source entry as read from YAML, before its kind's model validates it."""

    file: Path
    index: int
    data: dict[str, Any]

    @property
    def where(self) -> str:
        name = self.data.get("name", "?")
        kind = self.data.get("kind", "?")
        return f"{self.file}: sources[{self.index}] (name={name}, kind={kind})"


@dataclass
class ConfigIssue:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ConfigError(Exception):
    """Raised with every issue found, not just the first, so one run fixes them all."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass
class RawConfig:
    directory: Path
    daemon: DaemonConfig
    daemon_file: Path | None
    sources: list[RawSource] = field(default_factory=list)
    simulators: dict[str, Any] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)


_TOP_LEVEL_KEYS = {"daemon", "sources", "simulators"}


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per field error: `field 'a.b': message` (no input echo: it may be a secret)."""
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"field '{loc}': {err['msg']}")
    return lines


class ConfigFileRefused(ValueError):
    """A file too large, too deep or too alias-expanded to read safely."""


def _nesting_depth(text: str) -> tuple[int, int]:
    """Deepest collection nesting and its line, from the YAML event stream (iterative: a
    document nested thousands deep is measured without recursing)."""
    depth = deepest = line = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > deepest:
                mark = event.start_mark
                deepest, line = depth, (mark.line + 1 if mark is not None else 0)
            if depth > MAX_CONFIG_DEPTH:
                break
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return deepest, line


def _expanded_size(node: Any) -> int:
    """Values `node` stands for once every alias is expanded (memoised per object, so a
    "billion laughs" of aliases is measured in linear time, not expanded)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        item, children_done = stack.pop()
        if id(item) in sizes:
            continue
        children = (list(item.keys()) + list(item.values()) if isinstance(item, dict)
                    else item if isinstance(item, list) else [])
        if children_done or not children:
            sizes[id(item)] = 1 + sum(sizes.get(id(c), 1) for c in children)
            if sizes[id(item)] > MAX_CONFIG_NODES:
                return sizes[id(item)]
            continue
        stack.append((item, True))
        stack.extend((c, False) for c in children if isinstance(c, dict | list))
    return sizes.get(id(node), 1)


def load_yaml_file(path: Path) -> Any:
    """One config file, refused with the limit in the message when it is larger than
    MAX_CONFIG_FILE_BYTES, nested deeper than MAX_CONFIG_DEPTH, or expands (aliases) to more
    than MAX_CONFIG_NODES values."""
    if path.stat().st_size > MAX_CONFIG_FILE_BYTES:
        raise ConfigFileRefused(f"file larger than {MAX_CONFIG_FILE_BYTES} bytes")
    text = path.read_text(encoding="utf-8")
    deepest, line = _nesting_depth(text)
    if deepest > MAX_CONFIG_DEPTH:
        raise ConfigFileRefused(
            f"nested more than {MAX_CONFIG_DEPTH} levels deep (line {line})")
    doc = yaml.safe_load(text)
    if _expanded_size(doc) > MAX_CONFIG_NODES:
        raise ConfigFileRefused(
            f"expands to more than {MAX_CONFIG_NODES} values (YAML aliases?)")
    return doc


def read_config_dir(directory: Path) -> RawConfig:
    """Parse every `*.yaml` file in `directory` (sorted, not recursive).

    File-level and daemon-level problems are collected into `issues`; per-source validation
    happens later, once the plugin manager knows each kind's model.
    """
    directory = Path(directory)
    issues: list[ConfigIssue] = []
    daemon_data: dict[str, Any] | None = None
    daemon_file: Path | None = None
    sources: list[RawSource] = []
    simulators: dict[str, Any] = {}
    if not directory.is_dir():
        raise ConfigError([ConfigIssue(str(directory), "config directory does not exist")])
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    for path in files:
        try:
            doc = load_yaml_file(path)
        except ConfigFileRefused as exc:
            issues.append(ConfigIssue(str(path), str(exc)))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            pos = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            issues.append(ConfigIssue(f"{path}{pos}", f"YAML error: {problem}"))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(ConfigIssue(str(path), f"cannot read: {exc}"))
            continue
        if doc is None:
            continue
        if not isinstance(doc, dict):
            issues.append(ConfigIssue(str(path), "top level must be a mapping"))
            continue
        for key in sorted(set(doc) - _TOP_LEVEL_KEYS):
            issues.append(
                ConfigIssue(
                    str(path),
                    f"unknown top-level key {key!r} (expected daemon, sources, simulators)",
                )
            )
        if "daemon" in doc:
            if daemon_file is not None:
                issues.append(
                    ConfigIssue(str(path), f"second daemon section (first in {daemon_file})")
                )
            elif not isinstance(doc["daemon"], dict):
                issues.append(ConfigIssue(str(path), "daemon must be a mapping"))
            else:
                daemon_data, daemon_file = doc["daemon"], path
        if "simulators" in doc:
            sims = doc["simulators"]
            if not isinstance(sims, dict):
                issues.append(ConfigIssue(str(path), "simulators must be a mapping"))
            else:
                for sim_name, sim_cfg in sims.items():
                    if sim_name in simulators:
                        issues.append(ConfigIssue(str(path), f"simulator {sim_name!r} twice"))
                    simulators[sim_name] = sim_cfg if sim_cfg is not None else {}
        raw_sources = doc.get("sources", []) or []
        if not isinstance(raw_sources, list):
            issues.append(ConfigIssue(str(path), "sources must be a list"))
            continue
        for index, entry in enumerate(raw_sources):
            if not isinstance(entry, dict):
                issues.append(ConfigIssue(f"{path}: sources[{index}]", "must be a mapping"))
                continue
            sources.append(RawSource(path, index, entry))
    daemon = DaemonConfig()
    if daemon_data is not None:
        try:
            daemon = DaemonConfig.model_validate(daemon_data, context={"base_dir": directory})
        except ValidationError as exc:
            issues.extend(
                ConfigIssue(f"{daemon_file}: daemon", line) for line in format_validation_error(exc)
            )
    seen: dict[str, RawSource] = {}
    for src in sources:
        name = src.data.get("name")
        if isinstance(name, str):
            if name in seen:
                issues.append(
                    ConfigIssue(src.where, f"duplicate source name (also {seen[name].where})")
                )
            else:
                seen[name] = src
    return RawConfig(directory, daemon, daemon_file, sources, simulators, issues)


def register_secrets(model: BaseModel, registry: RedactionRegistry) -> None:
    """Walk a validated model and teach the redactor every secret value it holds."""
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            registry.add(value.get_secret_value())
        elif isinstance(value, BaseModel):
            register_secrets(value, registry)
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, BaseModel):
                    register_secrets(item, registry)
        elif isinstance(value, dict):
            for item in value.values():
                if isinstance(item, BaseModel):
                    register_secrets(item, registry)
