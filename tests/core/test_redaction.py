"""Secrets and URL credentials are scrubbed from log events, however they are nested."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from sitroom.logging import configure_logging
from sitroom.secrets import RedactionRegistry, redact_url, redactor, scrub_urls


@pytest.mark.parametrize(
    ("url", "leak"),
    [
        ("rtsp://admin:s3cret@10.1.2.3:554/live", "s3cret"),
        ("rtsp://admin:p@ss/w0rd@10.1.2.3/live", "w0rd"),
        ("http://cam.example/snap.jpg?user=a&pass=hunter22", "hunter22"),
        ("https://api.example/v1?access_token=abcdef123", "abcdef123"),
        ("http://x/cgi?loginuse=admin&loginpas=zzz999", "zzz999"),
    ],
)
def test_urls_lose_their_credentials(url, leak):
    assert leak not in redact_url(url)
    assert leak not in scrub_urls(f"error talking to {url}: refused")


def test_registry_scrubs_known_values_but_not_short_words():
    registry = RedactionRegistry()
    registry.add("Hunter2-long-secret")
    registry.add("abc")  # too short to redact without shredding ordinary text
    text = registry.redact("login with Hunter2-long-secret failed for abc")
    assert "Hunter2-long-secret" not in text and "abc" in text


def test_nested_log_fields_and_tracebacks_are_scrubbed(capsys):
    redactor.add("nested-secret-value-42")
    configure_logging("info", json=True)
    log = structlog.get_logger("test")
    try:
        raise ValueError("boom with nested-secret-value-42 inside")
    except ValueError as exc:
        log.error("failed", problems=["a", {"detail": "nested-secret-value-42"}],
                  url="rtsp://u:pw-in-url-77@h/x", exc_info=exc)
    logging.getLogger().handlers[0].flush()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    event = json.loads(line)
    assert "nested-secret-value-42" not in line and "pw-in-url-77" not in line
    assert event["event"] == "failed" and "ValueError" in event["exception"]


@pytest.mark.parametrize(
    ("url", "leak"),
    [
        ("https://portal.example/app?sessionid=f00dcafe11", "f00dcafe11"),
        ("https://idp.example/token?client_id=x&client_secret=c1ientS3cret", "c1ientS3cret"),
        ("https://api.example/v1?jwt=eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("https://b.s3.example/o?X-Amz-Signature=deadbeef99&X-Amz-Credential=AKIA123",
         "deadbeef99"),
        ("https://b.s3.example/o?X-Amz-Signature=deadbeef99&X-Amz-Credential=AKIA123",
         "AKIA123"),
        ("http://shop.example/cart;jsessionid=ABCDEF0123?x=1", "ABCDEF0123"),
        ("http://shop.example/a;v=1;sid=ZZTOP42/b", "ZZTOP42"),
        ("http://x.example/?anything=opaque-value-77#frag", "opaque-value-77"),
    ],
)
def test_every_query_value_and_path_parameter_is_masked(url, leak):
    """Not a list of known key names: any query value or `;param=` may be a credential."""
    assert leak not in redact_url(url)
    assert leak not in scrub_urls(f"GET {url} failed")
    shown = redact_url(url)
    assert shown.split("?")[0].split(";")[0] == url.split("?")[0].split(";")[0]


def test_redacted_urls_keep_host_path_and_key_names():
    shown = redact_url("https://u:p@host.example:8443/a/b?x=1&token=2")
    assert shown == "https://***@host.example:8443/a/b?x=***&token=***"
