"""Count what the security suite tried and print the figures at the end of a run.

SECURITY.md quotes these figures. Three are counted for the whole suite,
whatever test produced them:
- hypothesis cases: every example any @given test ran (its inner test is
  wrapped at collection, as Hypothesis documents for `.hypothesis.inner_test`);
- server errors: every exception a view let escape (Django's
  got_request_exception signal), i.e. every 500 the suite saw;
- the rest come from the tests that did the work, through `record()`.

Hypothesis profiles live here too: "ci" (the default) and "nightly" (ten
times the examples), chosen with HYPOTHESIS_PROFILE.
"""

import functools
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

FIGURES: Counter[str] = Counter()

HYPOTHESIS_CASES = "hypothesis cases run"
SERVER_ERRORS = "500s seen (exceptions escaping a view)"

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
# Tests that fuzz at scale ask for `scaled(n)` examples: n in CI, 10n nightly,
# and a twentieth with "quick", for a developer's run.
SCALE = {"ci": 1, "nightly": 10, "quick": 0.05}.get(PROFILE, 1)

_COMMON = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "print_blob": True,
}
# CI draws the same examples every run, so a red run can be replayed and a
# green one is not luck; the nightly profile explores fresh examples.
settings.register_profile("ci", max_examples=100, derandomize=True, **_COMMON)
settings.register_profile("nightly", max_examples=1000, **_COMMON)
settings.register_profile("quick", max_examples=10, **_COMMON)
settings.load_profile(PROFILE)


def scaled(examples: int) -> int:
    """Return how many examples a fuzz test runs under the current profile."""
    return max(1, int(examples * SCALE))


def record(figure: str, count: int = 1) -> None:
    """Add `count` to one of the figures printed at the end of the run."""
    FIGURES[figure] += count


def _counting(inner):
    @functools.wraps(inner)
    def counted(*args, **kwargs):
        FIGURES[HYPOTHESIS_CASES] += 1
        return inner(*args, **kwargs)

    counted._counts_cases = True
    return counted


def pytest_collection_modifyitems(items):
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        inner = getattr(handle, "inner_test", None)
        if inner is not None and not getattr(inner, "_counts_cases", False):
            handle.inner_test = _counting(inner)


def _count_server_error(sender, **kwargs):
    FIGURES[SERVER_ERRORS] += 1


@pytest.fixture(autouse=True, scope="session")
def _count_server_errors(django_test_environment):
    from django.core.signals import got_request_exception

    got_request_exception.connect(_count_server_error, dispatch_uid="figures")
    FIGURES[SERVER_ERRORS] += 0
    yield
    got_request_exception.disconnect(dispatch_uid="figures")


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("security figures")
    terminalreporter.write_line(f"hypothesis profile: {PROFILE}")
    for figure, count in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{figure}: {count:,}")
