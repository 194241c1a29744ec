"""The sitroom plugin API: the one module a plugin imports from the core.

Everything a plugin needs is here, by name: the hook marker, the declarations its hooks
return, the context and metric writer its sources receive, the daemon view its routes get,
the testing harness, and the shared helpers plugins would otherwise each write (paths
relative to the config dir, bounded HTTP reads, URL redaction, the SSRF guard, the RTSP
relay, the hostile-XML guard, Semarang's districts, serving a simulator, rate limits,
and for pages: rendering, language, CSRF, who is logged in). The built-in plugins import
nothing else from `sitroom`, and a test holds them to it, so these names are the contract
an external plugin can rely on; the modules behind them are the core's and may move.

    from sitroom.api import MetricSpec, PollingSource, SourceConfig, SourceKind, hookimpl

"""

from __future__ import annotations

from sitroom.auth import Principal, Scope
from sitroom.config import (
    Cidr,
    ConfigError,
    ConfigIssue,
    ConfigModel,
    ConfigPath,
    Duration,
    InputFile,
    SourceConfig,
    format_validation_error,
    parse_duration,
    resolve_path,
)
from sitroom.context import SourceContext, SourceStatus
from sitroom.declarations import (
    DaemonAPI,
    MetricSpec,
    MetricType,
    PollingSource,
    Route,
    SimulatorSpec,
    Source,
    SourceError,
    SourceKind,
    StreamingSource,
)
from sitroom.events.links import SnapshotFactory
from sitroom.events.manager import SourceEvents
from sitroom.events.spec import EventSpec, Text
from sitroom.failures import failure_site
from sitroom.hookspecs import hookimpl
from sitroom.httpfetch import (
    BodyTooLarge,
    HttpHeader,
    fetch_bytes,
    read_request_bounded,
    read_response_bounded,
)
from sitroom.metrics.store import MetricWriter
from sitroom.netguard import AddressRefused, CheckedTarget, NetGuard, pinned_connector
from sitroom.places import District, haversine_m, semarang_centre, semarang_districts
from sitroom.ratelimit import TokenBucketLimiter, bucket_key, client_address, retry_after
from sitroom.rtspguard import RtspRelay
from sitroom.safexml import HostileFeed, MalformedXml, check_feed, parse_xml_safely
from sitroom.secrets import redact_url, scrub_urls
from sitroom.simulation import serve_forever, serving
from sitroom.testing import SourceHarness, kinds_of
from sitroom.validation import KindSources, sources_of_kind
from sitroom.web import principal_of
from sitroom.webui import check_csrf, csrf_token, tr
from sitroom.webui import render as render_page

__all__ = [
    "AddressRefused",
    "BodyTooLarge",
    "CheckedTarget",
    "Cidr",
    "ConfigError",
    "ConfigIssue",
    "ConfigModel",
    "ConfigPath",
    "DaemonAPI",
    "District",
    "Duration",
    "EventSpec",
    "HostileFeed",
    "HttpHeader",
    "InputFile",
    "KindSources",
    "MalformedXml",
    "MetricSpec",
    "MetricType",
    "MetricWriter",
    "NetGuard",
    "PollingSource",
    "Principal",
    "Route",
    "RtspRelay",
    "Scope",
    "SimulatorSpec",
    "SnapshotFactory",
    "Source",
    "SourceConfig",
    "SourceContext",
    "SourceError",
    "SourceEvents",
    "SourceHarness",
    "SourceKind",
    "SourceStatus",
    "StreamingSource",
    "Text",
    "TokenBucketLimiter",
    "bucket_key",
    "check_csrf",
    "check_feed",
    "client_address",
    "csrf_token",
    "failure_site",
    "fetch_bytes",
    "format_validation_error",
    "haversine_m",
    "hookimpl",
    "kinds_of",
    "parse_duration",
    "parse_xml_safely",
    "pinned_connector",
    "principal_of",
    "read_request_bounded",
    "read_response_bounded",
    "redact_url",
    "render_page",
    "resolve_path",
    "retry_after",
    "scrub_urls",
    "semarang_centre",
    "semarang_districts",
    "serve_forever",
    "serving",
    "sources_of_kind",
    "tr",
]
