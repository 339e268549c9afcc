"""One-click unsubscribe POSTs per second, against a no-op view.

Both run on the same gunicorn server (bench.settings adds the no-op view), and
a load generator in a second process drives them in turn. Every POST that
reaches the unsubscribe view is real work the first time for each contact
(a history row and an outbox row), idempotent afterwards.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

from bench.harness import Report, Row
from bench.server import gunicorn
from unsubscribes.tokens import unsubscribe_token

SECONDS = 8
CONNECTIONS = 8
TOKENS = 20_000


def _load(port: int, paths_file: str) -> dict:
    result = subprocess.run(  # noqa: S603 # nosec B603 - our own module, fixed args
        [
            sys.executable,
            "-m",
            "bench.load",
            "127.0.0.1",
            str(port),
            paths_file,
            str(SECONDS),
            str(CONNECTIONS),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _paths_file(paths) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)  # noqa: SIM115
    with handle:
        handle.writelines(f"{path}\n" for path in paths)
    return handle.name


def run(report: Report, *, size: int, runs: int) -> None:
    unsubscribe_paths = _paths_file(
        f"/u/{unsubscribe_token(contact_id)}/"
        for contact_id in range(1, min(TOKENS, size) + 1)
    )
    noop_paths = _paths_file(["/bench/noop/"])
    rates: dict[str, list[float]] = {"unsubscribe": [], "noop": []}
    errors = 0
    try:
        with gunicorn(env={"LOG_LEVEL": "WARNING"}) as port:
            _load(port, noop_paths)  # warm-up: workers loaded, connections made
            for _ in range(max(3, runs // 2)):
                for name, paths in (
                    ("noop", noop_paths),
                    ("unsubscribe", unsubscribe_paths),
                ):
                    result = _load(port, paths)
                    rates[name].append(result["ok"] / result["seconds"])
                    errors += result["errors"]
    finally:
        os.unlink(unsubscribe_paths)
        os.unlink(noop_paths)

    unsubscribe, noop = (
        statistics.median(rates[name]) for name in ("unsubscribe", "noop")
    )
    report.add(
        Row(
            "One-click unsubscribe POST vs no-op view, gunicorn (gunicorn.conf.py)",
            unsubscribe,
            noop,
            "req/s",
            target=0.5,
            direction="min",
            note=f"{errors} non-200 answers",
        )
    )
