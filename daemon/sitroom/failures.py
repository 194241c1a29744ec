"""Unexpected exceptions on hostile-input paths: where they happened, never what they said.

An exception's message and traceback can quote the input that caused it (a password with a
lone surrogate, a reading's value), so handlers that must survive any input count the
failure and log its type and innermost source line once, and nothing else.
"""

from __future__ import annotations


def failure_site(exc: BaseException) -> str:
    """`module.py:123` of the innermost frame: enough to find the bug, nothing of the input."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"


def failure_key(exc: BaseException) -> tuple[str, str]:
    """What makes two failures "the same bug" for log-once purposes."""
    return type(exc).__name__, failure_site(exc)
