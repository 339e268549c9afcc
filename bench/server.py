"""Run the app under gunicorn on a free localhost port, and its Celery worker,
for load benchmarks."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

from tests.plugins.private_services import WORKER_COMMAND


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bench_env(env: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", **(env or {})}


@contextmanager
def celery_worker(*, env: dict[str, str]):
    """Run one Celery worker process, as production runs beside gunicorn."""
    process = subprocess.Popen(  # noqa: S603 # nosec B603 - our own worker, fixed args
        [*WORKER_COMMAND, "--loglevel=WARNING"],
        env=_bench_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def gunicorn(*, env: dict[str, str] | None = None):
    """Serve bench.settings with gunicorn.conf.py; yield the port; stop it after."""
    port = free_port()
    server_env = _bench_env(env)
    process = subprocess.Popen(  # noqa: S603 # nosec B603 - our own server, fixed args
        [
            sys.executable,
            "-m",
            "gunicorn",
            "salesinsight.wsgi",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=server_env,
    )
    try:
        _wait_until_up(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before it served a request")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)  # nosec B310 - localhost
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")
