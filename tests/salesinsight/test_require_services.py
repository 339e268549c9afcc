"""CI's promise: with REQUIRE_SERVICES=1 a skipped test fails the run."""

import os
import subprocess
import sys

import pytest

A_TEST_THAT_SKIPS = """
import pytest

def test_needs_a_missing_service():
    pytest.skip("needs a service this machine lacks")
"""


@pytest.mark.parametrize(("required", "exit_code"), [("1", 1), ("0", 0)])
def test_a_skip_fails_only_when_services_are_required(tmp_path, required, exit_code):
    (tmp_path / "test_skipping.py").write_text(A_TEST_THAT_SKIPS)
    env = {**os.environ, "REQUIRE_SERVICES": required}

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.plugins.require_services",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": os.getcwd()},
        timeout=120,
    )

    assert result.returncode == exit_code, result.stdout
    if required == "1":
        assert "REQUIRE_SERVICES=1 forbids skipping" in result.stdout
