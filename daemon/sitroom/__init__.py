"""sitroom: a monitoring daemon for a city Situation Room.

The names exported here are the plugin API; everything else is the core's business.
"""

from sitroom.config import ConfigModel, ConfigPath, Duration, SourceConfig
from sitroom.context import SourceContext
from sitroom.hookspecs import hookimpl
from sitroom.kinds import (
    MetricSpec,
    PollingSource,
    Route,
    SimulatorSpec,
    Source,
    SourceError,
    SourceKind,
    StreamingSource,
)

__version__ = "0.1.0"

__all__ = [
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
    "__version__",
    "hookimpl",
]
