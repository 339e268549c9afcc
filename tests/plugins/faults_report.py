"""Count the fault scenarios a run went through and write test-artifacts/faults.json.

A fault test is marked `@pytest.mark.fault("<scenario>")` and parametrized over
attempts, either by itself (`attempt` in its parameters) or by the marker:
`@pytest.mark.fault("<scenario>", attempts=3)` runs a test written to run once
(the Salesforce sync's own fault tests) three times. A test may record what
it measured through the `fault_outcome` fixture (for example the unsubscribes
it found lost, recorded before asserting there are none). At the end of a run
that went through any fault test, the file holds the scenarios, the attempts,
how many passed and the unsubscribes lost: the figures SECURITY.md quotes.
"""

import json
import time
from pathlib import Path

import pytest

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults.json"

_runs: dict[str, dict] = {}


class FaultOutcome:
    """What one run of a fault scenario measured."""

    def __init__(self) -> None:
        self.unsubscribes_expected = 0
        self.unsubscribes_lost = 0

    def unsubscribes(self, *, expected: set[int], recorded: set[int]) -> int:
        """Record the unsubscribes that should hold and those that do; return lost."""
        self.unsubscribes_expected += len(expected)
        lost = len(expected - recorded)
        self.unsubscribes_lost += lost
        return lost


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fault(scenario): a fault scenario counted in faults.json"
    )


def pytest_generate_tests(metafunc):
    marker = metafunc.definition.get_closest_marker("fault")
    attempts = marker.kwargs.get("attempts") if marker else None
    if attempts and "attempt" not in metafunc.fixturenames:
        # As pytest-repeat does: a parameter the test function does not take.
        metafunc.fixturenames.append("attempt")
        metafunc.parametrize("attempt", range(1, attempts + 1))


@pytest.fixture
def fault_outcome(request):
    outcome = FaultOutcome()
    request.node.fault_outcome = outcome
    return outcome


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    marker = item.get_closest_marker("fault")
    if marker is None:
        return
    report = outcome.get_result()
    run = _runs.setdefault(
        item.nodeid,
        {
            "scenario": marker.args[0],
            "case": f"{item.path.stem}::{item.originalname}",
            "test": item.nodeid,
            "outcome": "passed",
            "seconds": 0.0,
        },
    )
    run["seconds"] = round(run["seconds"] + report.duration, 2)
    if report.failed or (report.skipped and call.when != "teardown"):
        run["outcome"] = (
            report.outcome if run["outcome"] == "passed" else run["outcome"]
        )
    if call.when == "teardown":
        measured = getattr(item, "fault_outcome", None)
        run["unsubscribes_expected"] = measured.unsubscribes_expected if measured else 0
        run["unsubscribes_lost"] = measured.unsubscribes_lost if measured else 0


def pytest_sessionfinish(session):
    if not _runs:
        return
    runs = list(_runs.values())
    scenarios = sorted({run["scenario"] for run in runs})
    summary = {
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scenarios": len(scenarios),
        "cases": len({run["case"] for run in runs}),
        "runs": len(runs),
        "passed": sum(run["outcome"] == "passed" for run in runs),
        "failed": sum(run["outcome"] == "failed" for run in runs),
        "skipped": sum(run["outcome"] == "skipped" for run in runs),
        "unsubscribes_expected": sum(run["unsubscribes_expected"] for run in runs),
        "unsubscribes_lost": sum(run["unsubscribes_lost"] for run in runs),
        "seconds": round(sum(run["seconds"] for run in runs), 1),
        "by_scenario": {
            scenario: {
                "cases": len(
                    {run["case"] for run in runs if run["scenario"] == scenario}
                ),
                "runs": sum(run["scenario"] == scenario for run in runs),
                "passed": sum(
                    run["scenario"] == scenario and run["outcome"] == "passed"
                    for run in runs
                ),
            }
            for scenario in scenarios
        },
        "details": runs,
    }
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(summary, indent=2) + "\n")
    _summary.update(summary)


_summary: dict = {}


def pytest_terminal_summary(terminalreporter):
    if _summary:
        terminalreporter.section("fault scenarios")
        terminalreporter.write_line(
            "{scenarios} scenarios, {cases} cases, {runs} runs: {passed} passed, "
            "{failed} failed; "
            "unsubscribes expected {unsubscribes_expected}, lost "
            "{unsubscribes_lost}; {seconds} s (test-artifacts/faults.json)".format(
                **_summary
            )
        )
