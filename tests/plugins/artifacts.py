"""Files the suite keeps for people to look at, such as screenshots.

They go to test-artifacts/ (gitignored); the end of the run lists each one, so
a CI log names the files to download.
"""

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

_kept: list[Path] = []


@pytest.fixture
def artifact_path():
    """Return a function that gives the path to keep an artifact `name` at."""

    def path(name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / name
        _kept.append(target)
        return target

    return path


def pytest_terminal_summary(terminalreporter):
    kept = [path for path in _kept if path.exists()]
    if kept:
        terminalreporter.section("artifacts kept")
        for path in kept:
            terminalreporter.write_line(f"kept {path.relative_to(ARTIFACTS.parent)}")
