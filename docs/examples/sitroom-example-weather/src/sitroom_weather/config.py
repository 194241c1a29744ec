"""What an operator writes for one `weather_station` source."""

from __future__ import annotations

from pydantic import Field, HttpUrl, SecretStr

from sitroom.api import SourceConfig


# --8<-- [start:config]
class WeatherConfig(SourceConfig):
    """One weather service, polled for a fixed list of stations.

    `SourceConfig` brings kind, name, interval, timeout, stale_after and enabled. Every
    `SecretStr` field may be given as `<field>_file: /path` (read by the core, relative to
    the config file) or `${ENV}`, so a config never holds the key inline; the core never logs
    it and `/api/v1/sources` shows it as `**********`.
    """

    kind: str = "weather_station"
    url: HttpUrl = Field(description="Base URL of the weather service.")
    stations: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Station ids to read; they become the `station` label.",
    )
    api_key: SecretStr = Field(description="Sent as X-Api-Key; write api_key_file: /path.")
    max_body_bytes: int = Field(default=65_536, ge=1024, le=1_048_576)
# --8<-- [end:config]
