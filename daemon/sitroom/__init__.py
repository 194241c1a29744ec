"""sitroom: a monitoring daemon for a city Situation Room.

Plugins import the public API from `sitroom.api`; everything else under `sitroom` is the
core's business and may change. The names this package used to export (`from sitroom import
hookimpl`, ...) still resolve, lazily, to the same objects in `sitroom.api` so third-party
plugins written against them keep loading; new code should name `sitroom.api`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_COMPAT_NAMES = frozenset(
    {
        "ConfigModel",
        "ConfigPath",
        "Duration",
        "MetricSpec",
        "PollingSource",
        "Route",
        "SimulatorSpec",
        "Source",
        "SourceConfig",
        "SourceContext",
        "SourceError",
        "SourceKind",
        "StreamingSource",
        "hookimpl",
    }
)

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """Resolve the pre-`sitroom.api` names on first use (importing the API eagerly here
    would make every core module's import pull in the whole plugin API)."""
    if name in _COMPAT_NAMES:
        from sitroom import api

        return getattr(api, name)
    raise AttributeError(f"module 'sitroom' has no attribute {name!r}")
