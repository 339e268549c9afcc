"""One-click unsubscribe POSTs per second, against a no-op view.

Both run on the same gunicorn server (bench.settings adds the no-op view), and
a load generator in a second process drives them in turn. The server runs as
in production: Redis holds the rate limit's counts and takes the relay's Celery
message, a Celery worker runs the relays, and Salesforce credentials are set,
so every first POST for a contact writes its history row and its outbox row
and queues the relay. The login URL points at a closed port: a Salesforce call
inside a request would fail it, and the note reports every answer that was not
a 200. Later POSTs for the same contact are idempotent.
"""

import json
import os
import subprocess
import sys
import tempfile

import redis

from bench.harness import Report, Row, Timing
from bench.server import celery_worker, gunicorn
from unsubscribes.tokens import unsubscribe_token

SECONDS = 8
CONNECTIONS = 8
TOKENS = 20_000
# A database of the local Redis that nothing else uses; flushed before and after.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Nothing listens there: a relay fails to connect and leaves its rows pending,
# and a Salesforce call inside a request would fail the request.
CLOSED_LOGIN_URL = "https://127.0.0.1:9"


def _server_env(redis_url: str) -> dict[str, str]:
    return {
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
        "SALESFORCE_LOGIN_URL": CLOSED_LOGIN_URL,
        "SALESFORCE_USERNAME": "bench@example.com",
        "SALESFORCE_PASSWORD": "bench",
        "SALESFORCE_SECURITY_TOKEN": "bench",
    }


def _sync_marks() -> tuple[int, int]:
    """Return the newest outbox row's id and the newest sync run's, 0 if none."""
    from django.db.models import Max

    from salesforce_sync.models import OutboxEntry, SyncRun

    return (
        OutboxEntry.objects.aggregate(newest=Max("id"))["newest"] or 0,
        SyncRun.objects.aggregate(newest=Max("id"))["newest"] or 0,
    )


def _forget_sync_work(since: tuple[int, int]) -> int:
    """Delete the outbox rows and failed relays of this run; return the rows.

    Left pending, they would be pushed by the next benchmark that runs the
    sync, and counted as its requests.
    """
    from salesforce_sync.models import OutboxEntry, SyncRun

    outbox_since, runs_since = since
    written, _ = OutboxEntry.objects.filter(id__gt=outbox_since).delete()
    SyncRun.objects.filter(id__gt=runs_since).delete()
    return written


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


def _subscribed_paths(rounds: int) -> list[list[str]]:
    """Return one list of unsubscribe paths a round, each of other subscribed contacts.

    A contact a POST has unsubscribed stays so, so each round (and each later
    `make bench`) takes contacts still subscribed: every POST does the real
    work. A small database runs out of them, and the rounds then repeat
    contacts, which turns POSTs idempotent; the outbox count in the note says
    how many did the work.
    """
    from contacts.models import Contact

    ids = list(
        Contact.objects.filter(is_unsubscribed=False)
        .order_by("id")
        .values_list("id", flat=True)[: TOKENS * rounds]
    )
    per_round = max(1, len(ids) // rounds)
    return [
        [f"/u/{unsubscribe_token(contact_id)}/" for contact_id in chunk]
        for chunk in (
            ids[start : start + per_round] or ids
            for start in range(0, per_round * rounds, per_round)
        )
    ]


def run(report: Report, *, size: int, runs: int) -> None:
    rounds = max(3, runs // 2)
    unsubscribe_paths = [_paths_file(paths) for paths in _subscribed_paths(rounds)]
    noop_paths = _paths_file(["/bench/noop/"])
    rates: dict[str, list[float]] = {"unsubscribe": [], "noop": []}
    errors = 0
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    bench_redis = redis.Redis.from_url(redis_url)
    bench_redis.flushdb()
    marks = _sync_marks()
    try:
        server_env = _server_env(redis_url)
        with celery_worker(env=server_env), gunicorn(env=server_env) as port:
            _load(port, noop_paths)  # warm-up: workers loaded, connections made
            for round_paths in unsubscribe_paths:
                for name, paths in (("noop", noop_paths), ("unsubscribe", round_paths)):
                    result = _load(port, paths)
                    rates[name].append(result["ok"] / result["seconds"])
                    errors += result["errors"]
    finally:
        for paths in (*unsubscribe_paths, noop_paths):
            os.unlink(paths)
        bench_redis.flushdb()
    outbox_written = _forget_sync_work(marks)

    unsubscribe, noop = (Timing.of(rates[name]) for name in ("unsubscribe", "noop"))
    report.add(
        Row(
            "One-click unsubscribe POST vs no-op view, gunicorn (gunicorn.conf.py)",
            unsubscribe.median,
            noop.median,
            "req/s",
            target=0.5,
            direction="min",
            noisy=unsubscribe.noisy or noop.noisy,
            note=f"{errors} non-200 answers; {outbox_written:,} outbox rows written "
            "(deleted after)",
        )
    )
