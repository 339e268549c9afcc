"""Run the app's processes for real: Celery workers, Django shells, a private Redis."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(standin, redis_url: str) -> dict[str, str]:
    """Environment for a process of the app: the test database, the stand-in."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESFORCE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="salesinsight.test_settings",
        DATABASE_URL=(
            f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        REDIS_URL=redis_url,
        SALESFORCE_LOGIN_URL=standin.instance_url,
        SALESFORCE_API_VERSION="59.0",
        SALESFORCE_USERNAME=standin.api.username,
        SALESFORCE_PASSWORD=standin.api.password,
        SALESFORCE_SECURITY_TOKEN=standin.api.security_token,
        SALESFORCE_CA_BUNDLE=standin.ca_path,
        SALESFORCE_TIMEOUT_SECONDS="60",
        SALESFORCE_RETRY_BASE_SECONDS="0.05",
    )
    return env


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start `celery -A salesinsight worker --pool=solo` as its own process."""
    celery = shutil.which("celery", path=str(Path(sys.executable).parent))
    log = log_path.open("ab")
    return subprocess.Popen(
        [
            celery or "celery",
            "-A",
            "salesinsight",
            "worker",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def manage_shell(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    """Run Python code in `manage.py shell`, as another process of the app."""
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class PrivateRedis:
    """A redis-server of this test's own, which the test may stop and start."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
