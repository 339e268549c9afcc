"""Tasks on a real Celery worker over Redis, talking to the stand-in over HTTPS."""

import threading
import time

import pytest
from django.db import connection

from salesforce_sync import services, tasks
from salesforce_sync.models import (
    ConnectionState,
    OutboxEntry,
    OutboxStatus,
    RunStatus,
    RunTrigger,
    SyncRun,
    SyncState,
)
from salesforce_sync.services import sync_run
from tests.salesforce_sync.factories import linked_contacts, opted_out, unsubscribe
from unsubscribes.choices import Channel
from unsubscribes.services import contact_unsubscribe

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_an_unsubscribe_reaches_salesforce_through_the_worker(
    salesforce, celery_worker
):
    (contact,) = linked_contacts(salesforce, 1)

    contact_unsubscribe(contact_id=contact.pk, channel=Channel.USER, actor_name="Sam")

    wait_for(lambda: opted_out(salesforce, [contact]) == [True])
    wait_for(lambda: SyncRun.objects.filter(finished_at__isnull=False).exists())
    run = SyncRun.objects.get()
    assert (run.trigger, run.status, run.pushed) == (
        RunTrigger.RELAY,
        RunStatus.SUCCEEDED,
        1,
    )
    assert OutboxEntry.objects.get().status == OutboxStatus.SENT


class _CountingCache:
    """The real cache, counting the calls relay_enqueue makes on it."""

    def __init__(self, cache):
        self.cache = cache
        self.calls = []

    def __getattr__(self, name):
        method = getattr(self.cache, name)

        def counted(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


def test_a_burst_of_unsubscribes_asks_the_cache_once_and_one_relay_pushes_all(
    salesforce, celery_worker, monkeypatch
):
    contacts = linked_contacts(salesforce, 20)
    counting = _CountingCache(services.cache)
    monkeypatch.setattr(services, "cache", counting)
    # Every change inside the queued relay's countdown, however slow the machine.
    now = time.time()
    monkeypatch.setattr(services.queued_relay, "clock", lambda: now)

    for contact in contacts:
        contact_unsubscribe(
            contact_id=contact.pk, channel=Channel.ONE_CLICK, actor_name="Recipient"
        )

    assert counting.calls == ["add"]
    wait_for(lambda: all(opted_out(salesforce, contacts)))
    wait_for(lambda: SyncRun.objects.filter(finished_at__isnull=False).exists())
    run = SyncRun.objects.get()
    assert (run.trigger, run.pushed) == (RunTrigger.RELAY, 20)

    # Once that relay may have started, the next change queues its own.
    late = linked_contacts(salesforce, 1)
    monkeypatch.setattr(
        services.queued_relay, "clock", lambda: now + services._RELAY_DELAY_SECONDS
    )
    contact_unsubscribe(contact_id=late[0].pk, channel=Channel.USER, actor_name="Sam")

    # The relay cleared the flag when it started (in the worker's thread).
    assert counting.calls == ["add", "delete", "add"]
    wait_for(lambda: opted_out(salesforce, late) == [True])


def test_the_scheduled_task_pulls_and_pushes(salesforce, celery_worker):
    contacts = linked_contacts(salesforce, 2)
    salesforce.store.apply_update(
        contacts[0].salesforce_id, {"HasOptedOutOfEmail": True}
    )

    tasks.sync.delay()

    wait_for(lambda: SyncRun.objects.filter(finished_at__isnull=False).exists())
    contacts[0].refresh_from_db()
    assert contacts[0].is_unsubscribed is True
    assert SyncRun.objects.get().received == 1


@pytest.mark.fault("Salesforce faults as in the sync issue", attempts=3)
def test_a_run_that_keeps_failing_is_retried_then_recorded(
    salesforce, settings, celery_worker
):
    settings.SALESFORCE_TASK_RETRY_SECONDS = 0
    settings.SALESFORCE_RETRY_ATTEMPTS = 1
    contacts = linked_contacts(salesforce, 2)
    unsubscribe(contacts)
    salesforce.faults.server_error(503, times=100, kind="collections_patch")

    tasks.relay_outbox.delay()

    expected = tasks.MAX_RETRIES + 1
    wait_for(
        lambda: SyncState.objects.filter(error_message__startswith="Gave up").exists(),
        timeout=60,
    )
    state = SyncState.objects.get()
    assert state.connection == ConnectionState.UNREACHABLE
    assert state.error_message == f"Gave up after {expected} attempts: HTTP_503"
    runs = SyncRun.objects.all()
    # The relay queued on commit may add one more run of its own.
    assert runs.count() >= expected
    assert {r.status for r in runs} == {RunStatus.FAILED}
    assert OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count() == 2

    salesforce.faults.clear()
    tasks.relay_outbox.delay()
    wait_for(lambda: all(opted_out(salesforce, contacts)))


@pytest.mark.fault("Salesforce faults as in the sync issue", attempts=3)
def test_overlapping_triggers_run_once(salesforce):
    contacts = linked_contacts(salesforce, 3)
    unsubscribe(contacts)
    # Without Redis (the laptop default) the relay has already run in-process.
    runs_before = SyncRun.objects.count()
    # The first run sits in its pull while a second trigger arrives.
    salesforce.faults.slow(1.5, kind="query")
    results = {}

    def first_run():
        try:
            results["first"] = sync_run(trigger=RunTrigger.SCHEDULE)
        finally:
            connection.close()

    thread = threading.Thread(target=first_run)
    thread.start()
    wait_for(lambda: salesforce.counts["composite_batch"] >= 1)

    results["second"] = sync_run(trigger=RunTrigger.MANUAL)
    results["relay"] = sync_run(trigger=RunTrigger.RELAY)
    thread.join(timeout=30)

    assert results["second"] is None
    assert results["relay"] is None
    assert results["first"].status == RunStatus.SUCCEEDED
    assert SyncRun.objects.count() == runs_before + 1
    assert salesforce.counts["collections_patch"] == 1
    assert all(opted_out(salesforce, contacts))
