"""REQUIRE_SERVICES=1 turns every skipped test into a failure.

Tests skip, with the reason, when the machine lacks a service they need
(PostgreSQL, Redis, Chromium). CI sets REQUIRE_SERVICES=1 so that a missing
service fails the run instead of passing it silently.
"""

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    if required and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        report.outcome = "failed"
        report.longrepr = f"REQUIRE_SERVICES=1 forbids skipping: {reason}"
