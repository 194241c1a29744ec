"""Config of the `cap_feed` and `earthquake_feed` kinds."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl

from sitroom.api import Duration, SourceConfig


class CapFeedConfig(SourceConfig):
    kind: str = "cap_feed"
    url: HttpUrl = Field(description="An RSS/Atom index of CAP files, or one CAP document.")
    interval: Duration = Field(default=60.0, gt=0)
    timeout: Duration = Field(default=30.0, gt=0, description="Bound on one whole poll.")
    max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024,
                           description="Per document; larger ones are refused (too_large).")
    max_documents: int = Field(default=30, ge=1, le=200,
                               description="New CAP files fetched per poll at most.")
    default_expiry: Duration = Field(
        default=6 * 3600.0, gt=0,
        description="Lifetime of an alert without <expires> (PetaBencana documents 6 h).")
    flood_states: bool = Field(
        default=False,
        description="Also publish PetaBencana flood states (1-4) from flood alerts.")
    keep_outside: bool = Field(
        default=False, description="Keep alerts that do not reach Semarang (area=outside).")
    link_hosts: list[str] = Field(
        default_factory=list, max_length=16,
        description="Hosts an index may link to besides its own (none by default).")
    max_events: int = Field(default=20, ge=1, le=200,
                            description="Distinct `event` label values; the rest are `other`.")


class EarthquakeFeedConfig(SourceConfig):
    kind: str = "earthquake_feed"
    url: HttpUrl = Field(description="BMKG autogempa/gempaterkini/gempadirasakan, JSON or XML.")
    format: Literal["auto", "json", "xml"] = "auto"
    interval: Duration = Field(default=60.0, gt=0)
    timeout: Duration = Field(default=15.0, gt=0)
    max_bytes: int = Field(default=1024 * 1024, ge=1024, le=16 * 1024 * 1024)
