"""Services of a test's own, which it may restart, stop or kill: the fault suite.

The machine's shared PostgreSQL and Redis serve every other suite and CI, so
no test ever stops them. A fault test instead gets:

- `private_postgres`: a PostgreSQL cluster of the session's own (initdb in a
  temporary directory, a free port, trust authentication, fsync off), with a
  database migrated once per session and seeded with contacts; each test gets
  a fresh copy of it (`fault_db`) and may restart, stop and start the cluster.
- `private_redis`: a redis-server of the test's own, without persistence, so
  stopping it loses what it held, as a crashed Redis does.
- `app_processes`: the app's own processes on those services, a Celery worker
  (`--pool=solo`) that the test may SIGKILL, and `driver` runs of
  tests/faults/driver.py that call the app's code the way a request or a
  task would.

The app's code never runs inside the test process against these services, so a
restart only ever breaks the connections of the processes under test.
Without the binaries (Debian's newest /usr/lib/postgresql/<n>/bin, or
PRIVATE_PG_BIN; redis-server) the tests skip with the reason;
REQUIRE_SERVICES=1 turns that into a failure.
"""

import contextlib
import itertools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# One worker process running one task at a time, as these tests and the
# benchmarks start it; the caller adds its log level.
WORKER_COMMAND = (
    sys.executable,
    "-m",
    "celery",
    "-A",
    "salesinsight",
    "worker",
    "--pool=solo",
    "--concurrency=1",
    "-Q",
    "celery",
    "--without-mingle",
    "--without-gossip",
)


def _postgres_bin() -> Path:
    """Return PRIVATE_PG_BIN, else Debian's newest /usr/lib/postgresql/<n>/bin."""
    if os.environ.get("PRIVATE_PG_BIN"):
        return Path(os.environ["PRIVATE_PG_BIN"])
    versions = sorted(
        (
            p
            for p in Path("/usr/lib/postgresql").glob("*/bin")
            if p.parent.name.isdigit()
        ),
        key=lambda p: int(p.parent.name),
    )
    return versions[-1] if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _postgres_bin()
# Seeded once into the template every test database is copied from.
SEED_CONTACTS = 12_000
# The broker hands a lost worker's message to another worker after this long;
# production keeps an hour (CELERY_VISIBILITY_TIMEOUT in settings.py).
TEST_VISIBILITY_TIMEOUT = 3
# A bulk task that lost its database retries after this long (5 s in production).
TEST_RETRY_SECONDS = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 30, what: str = "a condition"):
    """Poll `condition` until it returns something true; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, owned by this session."""

    TEMPLATE = "faults_template"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        self._names = itertools.count(1)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, check=check, capture_output=True, text=True, timeout=120
        )

    def create(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = " ".join(
            f"-c {setting}"
            for setting in (
                f"port={self.port}",
                "listen_addresses=127.0.0.1",
                f"unix_socket_directories={self.root}",
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
                "max_connections=40",
                "shared_buffers=32MB",
            )
        )
        (self.data / "faults-options").write_text(options)
        self.start()

    def start(self) -> None:
        options = (self.data / "faults-options").read_text()
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "start",
        )
        wait_for(lambda: _port_open(self.port), what="PostgreSQL to listen")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop the cluster (every open transaction rolls back), then start it."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False
        )

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def connect(self, name: str = "postgres", autocommit: bool = True):
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=name
        )
        connection.autocommit = autocommit
        return connection

    def execute(self, sql: str, name: str = "postgres") -> None:
        with contextlib.closing(self.connect(name)) as connection:
            connection.cursor().execute(sql)

    def new_database(self) -> "FaultDatabase":
        name = f"faults_{next(self._names)}"
        # FILE_COPY copies the template's files instead of logging every page.
        self.execute(
            f'CREATE DATABASE "{name}" TEMPLATE "{self.TEMPLATE}" STRATEGY FILE_COPY'
        )
        return FaultDatabase(self, name)


class FaultDatabase:
    """One test's database on the private cluster, read with plain SQL."""

    def __init__(self, cluster: PrivatePostgres, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.url = cluster.url(name)

    def connect(self, autocommit: bool = True):
        return self.cluster.connect(self.name, autocommit=autocommit)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(self.connect()) as connection:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            return cursor.fetchall()

    def value(self, sql: str, params: tuple = ()):
        return self.rows(sql, params)[0][0]

    def job(self, job_id: int) -> dict:
        """Return a bulk job's row as a dict."""
        with contextlib.closing(self.connect()) as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT * FROM contacts_bulkjob WHERE id = %s", (job_id,))
            names = [column.name for column in cursor.description]
            return dict(zip(names, cursor.fetchone(), strict=True))

    @contextlib.contextmanager
    def row_locked(self, contact_id: int) -> Iterator[None]:
        """Hold a contact's row lock, as a slow concurrent writer would."""
        connection = self.connect(autocommit=False)
        try:
            connection.cursor().execute(
                "SELECT id FROM contacts_contact WHERE id = %s FOR UPDATE",
                (contact_id,),
            )
            yield
        finally:
            # After a restart the connection is already gone; closing ends it.
            with contextlib.suppress(Exception):
                connection.rollback()
            connection.close()

    def waiting_for_locks(self) -> int:
        """Return how many sessions of this database wait on a lock."""
        return self.value(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND wait_event_type = 'Lock'",
            (self.name,),
        )


class PrivateRedis:
    """A redis-server of the test's own, without persistence."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
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
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _port_open(self.port), what="redis-server to listen")

    def stop(self) -> None:
        """Stop Redis abruptly: every queued and unacknowledged message is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=2)

    def queued(self, queue: str = "celery") -> int:
        """Return how many messages wait in a queue or unacknowledged."""
        client = self.client()
        return client.llen(queue) + client.hlen("unacked")


class AppProcesses:
    """The app's processes (Celery workers, driver runs) on the private services."""

    def __init__(self, root: Path, database_url: str, redis_url: str) -> None:
        self.root = root
        self.workers: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "salesinsight.test_settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_VISIBILITY_TIMEOUT": str(TEST_VISIBILITY_TIMEOUT),
            "BULK_RETRY_SECONDS": str(TEST_RETRY_SECONDS),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        self._logs = itertools.count(1)
        self.drivers: list[subprocess.Popen] = []
        self._server: subprocess.Popen | None = None
        self._driver_log = root / "driver.log"

    def start_worker(self, *, wait: bool = True) -> subprocess.Popen:
        log = self.root / f"worker-{next(self._logs)}.log"
        process = subprocess.Popen(
            [*WORKER_COMMAND, "--loglevel=INFO"],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        process.log_path = log  # type: ignore[attr-defined]
        self.workers.append(process)
        if wait:
            self.wait_ready(process)
        return process

    def wait_ready(self, process: subprocess.Popen) -> None:
        log = process.log_path  # type: ignore[attr-defined]
        wait_for(
            lambda: process.poll() is not None or b" ready." in log.read_bytes(),
            timeout=60,
            what="the Celery worker to be ready",
        )
        assert process.poll() is None, log.read_text()

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL a worker: no warm shutdown, no acknowledgement, nothing."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def worker_logs(self) -> str:
        return "\n".join(
            process.log_path.read_text(errors="replace")  # type: ignore[attr-defined]
            for process in self.workers
        )

    def driver(self, command: str, timeout: float = 60, **arguments) -> dict:
        """Run one command of tests/faults/driver.py; return its JSON answer.

        Commands go to one long-lived driver process, one after the other.
        """
        if self._server is None:
            self._server = self._driver_process("serve")
        server = self._server
        server.stdin.write(json.dumps([command, arguments]) + "\n")
        server.stdin.flush()
        ready, _, _ = select.select([server.stdout], [], [], timeout)
        assert ready, f"the driver did not answer {command} in {timeout} s"
        line = server.stdout.readline()
        assert line, f"the driver exited:\n{self._driver_log.read_text()}"
        answer = json.loads(line)
        assert "error" not in answer, answer["error"]
        return answer["answer"]

    def start_driver(self, command: str, **arguments) -> "DriverRun":
        """Start a command in a driver process of its own, to run alongside."""
        return DriverRun(self._driver_process(command, json.dumps(arguments)))

    def _driver_process(self, *args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.driver", *args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._driver_log.open("ab"),
            text=True,
        )
        self.drivers.append(process)
        return process

    def stop_all(self) -> None:
        for process in [*self.workers, *self.drivers]:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


class DriverRun:
    """A driver command running in its own process."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def exited(self) -> bool:
        return self.process.poll() is not None

    def finish(self, timeout: float = 120) -> dict:
        out, _ = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, "the driver failed: see driver.log"
        return json.loads(out.strip().splitlines()[-1])


def _missing_binaries() -> str | None:
    for binary in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / binary).exists():
            return (
                f"needs PostgreSQL's {binary} in {PG_BIN} (apt-get install postgresql)"
            )
    if not shutil.which("redis-server"):
        return "needs redis-server (apt-get install redis-server)"
    return None


@pytest.fixture(scope="session")
def private_postgres(tmp_path_factory):
    """A private PostgreSQL cluster with a migrated, seeded template database."""
    missing = _missing_binaries()
    if missing:
        pytest.skip(missing)
    root = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PrivatePostgres(root)
    cluster.create()
    try:
        cluster.execute(f'CREATE DATABASE "{cluster.TEMPLATE}"')
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "salesinsight.test_settings",
            "DATABASE_URL": cluster.url(cluster.TEMPLATE),
            "REDIS_URL": "",
        }
        for command in (
            [sys.executable, "manage.py", "migrate", "--noinput"],
            [
                sys.executable,
                "-m",
                "tests.faults.driver",
                "seed",
                json.dumps({"contacts": SEED_CONTACTS}),
            ],
        ):
            subprocess.run(
                command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300
            )
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fault_db(private_postgres):
    """A fresh copy of the seeded database, for this test alone."""
    database = private_postgres.new_database()
    yield database
    # The cluster may have been stopped by the test; bring it back first.
    if not _port_open(private_postgres.port):
        private_postgres.start()
    private_postgres.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


@pytest.fixture
def private_redis(tmp_path):
    missing = _missing_binaries()
    if missing:
        pytest.skip(missing)
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_processes(tmp_path, fault_db, private_redis):
    """Workers and driver runs of the app on this test's database and Redis."""
    processes = AppProcesses(tmp_path, fault_db.url, private_redis.url)
    yield processes
    processes.stop_all()
