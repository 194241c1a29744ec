"""Suite-wide rule: under CI (CI=true) a skipped test is a failed test.

A test skips locally when a Debian tool is missing (`tests.support.require_tool`) or the
machine lacks something it needs; in CI `make test` installs everything, so a skip there
means coverage silently lost. The hooks turn every skip (in a test, a fixture, or a whole
module at collection) into a failure that keeps the skip's reason. `xfail` is not a skip and
is left alone.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from tests.support import IN_CI

SKIP_IN_CI = "skipped under CI=true, where every test must run"


def _fail_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not (IN_CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{SKIP_IN_CI}: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]
                              ) -> Generator[None, Any, None]:
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    _fail_skip(outcome.get_result())
