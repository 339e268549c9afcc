"""The sync across real processes: a worker killed mid-push, Redis stopped."""

import math
import os
import signal
import time

import pytest

from salesforce_sync.models import OutboxEntry, OutboxStatus
from salesinsight.celery import app
from tests.salesforce_sync.factories import linked_contacts, opted_out, unsubscribe
from tests.salesforce_sync.processes import (
    PrivateRedis,
    app_env,
    manage_shell,
    start_worker,
    stop,
)

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    # Counted in faults.json and run three times, as issue 8 asks.
    pytest.mark.fault("Salesforce faults as in the sync issue", attempts=3),
]

RELAY = "from salesforce_sync.tasks import relay_outbox; relay_outbox.delay()"


def wait_for(condition, timeout=60.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(interval)


def sent_count() -> int:
    return OutboxEntry.objects.filter(status=OutboxStatus.SENT).count()


@pytest.fixture
def postgres_only(postgres):
    return postgres


def test_a_worker_killed_mid_push_resumes_without_loss(
    salesforce, redis_url, postgres_only, tmp_path
):
    app.control.purge()
    contacts = linked_contacts(salesforce, 450)
    # The first collection request passes; the second hangs until the kill.
    salesforce.faults.slow(0.01, kind="collections_patch")
    salesforce.faults.slow(30, kind="collections_patch")
    env = app_env(salesforce, redis_url)
    worker = start_worker(env, tmp_path / "worker-1.log")
    try:
        unsubscribe(contacts)  # queues the relay on commit
        wait_for(lambda: salesforce.counts["collections_patch"] == 2)
        wait_for(lambda: sent_count() == 200)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop(worker)
    assert OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count() == 250

    restarted = start_worker(env, tmp_path / "worker-2.log")
    try:
        # As the periodic sweep does; the dead worker's lock goes with its
        # database connection, which PostgreSQL may take a moment to notice.
        def relayed() -> bool:
            manage_shell(env, RELAY)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and sent_count() < 450:
                time.sleep(0.2)
            return sent_count() == 450

        wait_for(relayed, timeout=90, interval=0)
    finally:
        stop(restarted)

    assert all(opted_out(salesforce, contacts))
    statuses = OutboxEntry.objects.values_list("status", flat=True)
    assert list(statuses) == [OutboxStatus.SENT] * 450
    # Two requests before the kill, the two unsent chunks after: the chunk
    # in flight at the kill was sent again, which sets the same values.
    assert salesforce.counts["collections_patch"] == 2 + math.ceil(250 / 200)


def test_an_unsubscribe_while_redis_is_down_is_pushed_once_redis_is_back(
    salesforce, postgres_only, tmp_path
):
    redis = PrivateRedis(tmp_path)
    redis.start()
    env = app_env(salesforce, redis.url)
    contacts = linked_contacts(salesforce, 2)
    redis.stop()

    unsubscribed = manage_shell(
        env,
        "from unsubscribes.services import contact_unsubscribe\n"
        + "".join(
            f"contact_unsubscribe(contact_id={c.pk}, channel='one_click',"
            " actor_name='Recipient')\n"
            for c in contacts
        )
        + "print('unsubscribed')",
    )

    assert unsubscribed.returncode == 0, unsubscribed.stderr
    assert "unsubscribed" in unsubscribed.stdout
    assert "Could not queue the Salesforce relay" in unsubscribed.stderr
    assert OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count() == 2
    assert salesforce.counts["collections_patch"] == 0

    redis.start()
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        queued = manage_shell(env, RELAY)
        assert queued.returncode == 0, queued.stderr
        wait_for(lambda: all(opted_out(salesforce, contacts)))
    finally:
        stop(worker)
        redis.stop()

    assert sent_count() == 2
