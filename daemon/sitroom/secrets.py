"""Keeping secrets out of everything a person or a scraper can read.

Config models hide secrets behind `SecretStr`, but a secret can still travel inside an
exception message ("connect to rtsp://admin:hunter2@...") or a URL a plugin logs. The
redaction registry learns every secret value the config holds and scrubs it from log events
and API output as a last line of defence.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import SplitResult, urlsplit, urlunsplit

REDACTED = "***"
# greedy up to the last '@' of the address: unencoded passwords may contain '@' or '/'
# (over-redacting a path that holds an '@' is the safe way to be wrong)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^\s\"'<>]*)@")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]*")
_PATH_PARAM = re.compile(r";(?P<key>[^;/?#=]*)(?:=[^;/?#]*)?")


def _mask_pairs(text: str, separator: str) -> str:
    """`a=1&b=2` -> `a=***&b=***`; a bare value (`?opaque`) becomes `***`."""
    masked = []
    for pair in text.split(separator):
        key, equals, _ = pair.partition("=")
        masked.append(f"{key}={REDACTED}" if equals else (REDACTED if pair else ""))
    return separator.join(masked)


def _mask_tail(url: str) -> str:
    """Mask every query value, path parameter (`;jsessionid=`) and the fragment.

    No list of "secret-looking" key names: `sessionid`, `X-Amz-Signature`, `jwt` and the
    next vendor's invention all carry credentials, and a key list always lags behind.
    """
    head, hash_, fragment = url.partition("#")
    head, question, query = head.partition("?")
    scheme, sep, rest = head.partition("://")
    host, slash, path = rest.partition("/")
    path = _PATH_PARAM.sub(lambda m: f";{m['key']}={REDACTED}" if "=" in m[0] else
                           f";{REDACTED}", path)
    masked = f"{scheme}{sep}{host}{slash}{path}"
    if question:
        masked += "?" + "&".join(_mask_pairs(part, ";") for part in query.split("&"))
    if hash_:
        masked += f"#{REDACTED}" if fragment else "#"
    return masked


def redact_url(url: str) -> str:
    """Drop userinfo, every query value, path parameter and fragment from a URL, keeping
    scheme, host, port, path and the query's key names (enough to tell endpoints apart).

    Used wherever an address is shown to token holders: logs, `/api/v1/sources`. Labels
    never carry URLs at all (a probe is named in config).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_urls(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    cleaned = SplitResult(parts.scheme, netloc, parts.path, parts.query, parts.fragment)
    # a password with an unencoded '/' ends urlsplit's netloc early: scrub the rest too
    return scrub_urls(urlunsplit(cleaned))


def scrub_urls(text: str) -> str:
    """Redact URL credentials, query values, path parameters and fragments wherever a URL
    occurs inside free text."""
    text = _URL_USERINFO.sub(rf"\g<scheme>{REDACTED}@", text)
    return _URL.sub(lambda m: _mask_tail(m[0]), text)


class RedactionRegistry:
    """The set of secret strings to scrub. Thread-safe: decoding threads log too."""

    MIN_LENGTH = 4  # shorter "secrets" would shred ordinary words out of every log line

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < self.MIN_LENGTH:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets = self._secrets | {secret}
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return scrub_urls(text)

    def redact_value(self, value: object) -> object:
        """Redact strings nested in JSON-like data (dicts, lists)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        return value


redactor = RedactionRegistry()
"""The process-wide registry: logging and the web API both consult it."""
