"""What a citizen may send, validated field by field, with errors that never echo input.

Validation happens in two stages: pydantic checks each field's shape, then `check_stream`
judges the stream address (port policy, SSRF guard), which needs the registry's policy and a
DNS lookup. Both stages report `FieldError(field, message)` so the API returns one list.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, get_args
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from sitroom.api import AddressRefused, NetGuard
from sitroom_registry.config import BoundingBox

# The 16 kecamatan of Kota Semarang.
DISTRICTS = (
    "Banyumanik",
    "Candisari",
    "Gajahmungkur",
    "Gayamsari",
    "Genuk",
    "Gunungpati",
    "Mijen",
    "Ngaliyan",
    "Pedurungan",
    "Semarang Barat",
    "Semarang Selatan",
    "Semarang Tengah",
    "Semarang Timur",
    "Semarang Utara",
    "Tembalang",
    "Tugu",
)
_DISTRICT_KEYS = {re.sub(r"[^a-z]", "", d.lower()): d for d in DISTRICTS}
OwnerType = Literal["citizen", "business", "office", "school", "government"]
OWNER_TYPES: tuple[str, ...] = get_args(OwnerType)
PROTOCOLS = ("rtsp", "http", "https")
_SECRET_QUERY_KEYS = {"user", "username", "pwd", "pass", "passwd", "password", "token", "auth"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# JSON may spell a lone UTF-16 surrogate ("\\ud800"); no UTF-8 store or log can hold one
_SURROGATE = re.compile(r"[\ud800-\udfff]")

M = TypeVar("M", bound=BaseModel)
Text = Annotated[str, StringConstraints(strip_whitespace=True)]


def _no_control(value: str | None) -> str | None:
    if value is not None and _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return _no_surrogate(value)


def _no_surrogate(value: str | None) -> str | None:
    if value is not None and _SURROGATE.search(value):
        raise ValueError("must be valid Unicode text (a lone surrogate is not)")
    return value


class StreamIn(BaseModel):
    """Either `url`, or `protocol` + `host` (+ `port`, `path`); credentials separately."""

    model_config = ConfigDict(extra="forbid")

    url: Text | None = Field(default=None, max_length=2048)
    protocol: Literal["rtsp", "http", "https"] | None = None
    host: Text | None = Field(default=None, min_length=1, max_length=253)
    port: int | None = Field(default=None, ge=1, le=65535)
    path: Text = Field(default="/", max_length=1024)
    username: Text | None = Field(default=None, min_length=1, max_length=128)
    password: SecretStr | None = Field(default=None, max_length=128)

    @field_validator("url", "host", "path", "username")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return _no_control(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _no_surrogate(value.get_secret_value())
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        if any(c.isspace() or c in "#\\" for c in value):
            raise ValueError("must not contain spaces, '#' or '\\'")
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is not None and ":" in value:
            raise ValueError("must not contain ':'")
        return value


class DetailsIn(BaseModel):
    """Who owns the camera and where it is: everything but the stream and the consent."""

    model_config = ConfigDict(extra="forbid")

    owner_name: Text = Field(min_length=2, max_length=200)
    contact_phone: Text | None = Field(default=None, max_length=32)
    contact_email: Text | None = Field(default=None, max_length=254)
    owner_type: OwnerType
    address: Text = Field(min_length=5, max_length=300)
    district: str
    location_name: Text | None = Field(default=None, max_length=120)
    latitude: float
    longitude: float

    @field_validator("owner_name", "address", "location_name", "contact_email", "contact_phone")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return _no_control(value)

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = re.sub(r"[\s().-]", "", value)
        if not re.fullmatch(r"\+?[0-9]{6,15}", digits):
            raise ValueError("must be a phone number: 6 to 15 digits, optional leading +")
        return digits

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", value):
            raise ValueError("must be an e-mail address like name@example.id")
        return value.lower()

    @field_validator("district", mode="before")
    @classmethod
    def _district(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        found = _DISTRICT_KEYS.get(re.sub(r"[^a-z]", "", value.lower()))
        if found is None:
            raise ValueError(f"must be one of Semarang's kecamatan: {', '.join(DISTRICTS)}")
        return found

    @field_validator("latitude", "longitude")
    @classmethod
    def _inside_city(cls, value: float, info: ValidationInfo) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        bbox: BoundingBox = (info.context or {}).get("bbox") or BoundingBox()
        low, high = (
            (bbox.lat_min, bbox.lat_max)
            if info.field_name == "latitude"
            else (bbox.lon_min, bbox.lon_max)
        )
        if not low <= value <= high:
            raise ValueError(f"must lie inside the city: between {low} and {high}")
        return value


class RegistrationIn(DetailsIn):
    """The public registration form."""

    stream: StreamIn
    consent: bool

    @field_validator("consent", mode="before")
    @classmethod
    def _consent(cls, value: Any) -> bool:
        # a decision is JSON `true` and nothing else: "true", 1 or "yes" are not consent
        if value is not True:
            raise ValueError("must be true: the owner agrees that the city monitors this camera")
        return value


class StreamEditIn(BaseModel):
    """An edit's new stream address (details are validated merged with the current row)."""

    model_config = ConfigDict(extra="forbid")

    stream: StreamIn


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InvalidRequest(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def pydantic_errors(exc: ValidationError) -> list[FieldError]:
    """Field paths and messages only: `include_input=False` keeps secrets out of replies."""
    errors = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(body)"
        message = err["msg"].removeprefix("Value error, ")
        errors.append(FieldError(loc, message))
    return errors


def parse_model(model: type[M], data: Any, bbox: BoundingBox) -> M:
    if not isinstance(data, dict):
        raise InvalidRequest([FieldError("(body)", "must be a JSON object")])
    try:
        return model.model_validate(data, context={"bbox": bbox})
    except ValidationError as exc:
        raise InvalidRequest(pydantic_errors(exc)) from None


@dataclass(frozen=True)
class StreamSpec:
    """A stream address that passed the guard: what to connect to, and how."""

    protocol: str
    host: str  # canonical host as given (name or IP), shown to admins
    port: int
    path: str  # path plus query
    address: str  # the pinned IP
    username: str | None = None
    password: str | None = None


def _split_url(stream: StreamIn) -> tuple[list[FieldError], dict[str, Any]]:
    """Break `stream.url` into protocol, host, port, path and credentials."""
    errors: list[FieldError] = []
    url = stream.url or ""
    if any(c.isspace() or c == "\\" for c in url):
        return [FieldError("stream.url", "must not contain spaces or '\\'")], {}
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [FieldError("stream.url", "is not a valid URL")], {}
    scheme = parts.scheme.lower()
    if scheme not in PROTOCOLS:
        return [FieldError("stream.url", "must start with rtsp://, http:// or https://")], {}
    if not parts.hostname:
        return [FieldError("stream.url", "has no host")], {}
    if parts.fragment:
        errors.append(FieldError("stream.url", "must not contain a '#' fragment"))
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if (username or password) and (stream.username or stream.password):
        errors.append(
            FieldError("stream.url", "give credentials either in the URL or separately, not both")
        )
    host = parts.hostname
    if parts.netloc.rsplit("@", 1)[-1].startswith("["):
        host = f"[{host}]"
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return errors, {
        "protocol": scheme,
        "host": host,
        "port": port,
        "path": path,
        "username": username or stream.username,
        "password": password or (stream.password.get_secret_value() if stream.password else None),
    }


def _query_has_secret(path: str) -> bool:
    query = path.partition("?")[2]
    return any(key.lower() in _SECRET_QUERY_KEYS for key, _ in parse_qsl(query))


async def check_stream(stream: StreamIn, guard: NetGuard) -> StreamSpec:
    """Combine the stream fields, then judge the address. Raises InvalidRequest."""
    if stream.url is not None:
        if stream.host is not None or stream.protocol is not None or stream.port is not None:
            raise InvalidRequest(
                [FieldError("stream", "give either url, or protocol/host/port/path, not both")]
            )
        errors, parts = _split_url(stream)
        if errors:
            raise InvalidRequest(errors)
        field = "stream.url"
    else:
        missing = [f"stream.{n}" for n in ("protocol", "host") if getattr(stream, n) is None]
        if missing:
            raise InvalidRequest([FieldError(m, "required (or give stream.url)") for m in missing])
        parts = {
            "protocol": stream.protocol,
            "host": stream.host,
            "port": stream.port,
            "path": stream.path,
            "username": stream.username,
            "password": stream.password.get_secret_value() if stream.password else None,
        }
        field = "stream.host"
    protocol = str(parts["protocol"])
    given_port = parts["port"]
    port = int({"rtsp": 554, "http": 80, "https": 443}[protocol] if given_port is None
               else given_port)
    path = str(parts["path"])
    if _query_has_secret(path):
        raise InvalidRequest(
            [FieldError(field, "put credentials in username/password, not in the URL query")]
        )
    port_field = "stream.port" if stream.url is None else "stream.url"
    if not 1 <= port <= 65535:  # `:0` is a port, not "the default": never probe it as 80
        raise InvalidRequest([FieldError(port_field, "port must be between 1 and 65535")])
    try:
        guard.check_port(port)
    except AddressRefused:
        allowed = ", ".join(str(p) for p in sorted(guard.allowed_ports or ()))
        message = f"port not allowed; use one of {allowed}"
        raise InvalidRequest([FieldError(port_field, message)]) from None
    try:
        host, address, _ = await guard.check(str(parts["host"]), port)
    except AddressRefused as exc:
        # One message for every refusal: telling "private" from "does not resolve" apart
        # would turn the public form into an oracle for mapping the city's internal network.
        message = (
            "is not a valid host name or IP address"
            if exc.reason == "invalid"
            else "must be a public address the city can reach (or one of its VPN networks)"
        )
        raise InvalidRequest([FieldError(field, message)]) from None
    return StreamSpec(
        protocol=protocol,
        host=host,
        port=port,
        path=path,
        address=str(address),
        username=parts["username"],
        password=parts["password"],
    )
