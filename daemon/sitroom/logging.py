"""structlog set-up: JSON lines for machines, colours for people, secrets scrubbed for both."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from sitroom.secrets import redactor


def _redact_event(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Last line of defence: scrub known secrets and URL credentials from every field,
    nested lists and dicts and the formatted traceback included."""
    for key, value in event.items():
        if isinstance(value, str | list | tuple | dict):
            event[key] = redactor.redact_value(value)
    return event


def configure_logging(level: str = "info", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger (aiohttp, pymodbus log through it)."""
    if json is None:
        json = not sys.stderr.isatty()
    numeric = getattr(logging, level.upper(), logging.INFO)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # tracebacks become text before redaction (in the console too), so they are scrubbed
        structlog.processors.format_exc_info,
        _redact_event,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # chatty libraries: their INFO lines are per-request noise for an always-on daemon
    for name in ("aiohttp.access", "pymodbus", "asyncio"):
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
