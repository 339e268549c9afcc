"""Each fault Salesforce can throw at a run loses no unsubscribe."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from salesforce_sync.client import TransientError
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

pytestmark = pytest.mark.django_db


@pytest.fixture
def opt_outs(salesforce):
    """250 local unsubscribes waiting in the outbox: two collection requests."""
    contacts = linked_contacts(salesforce, 250)
    unsubscribe(contacts)
    return contacts


def assert_all_pushed(standin, contacts):
    assert all(opted_out(standin, contacts))
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {
        OutboxStatus.SENT
    }


def assert_none_lost(contacts):
    pending = OutboxEntry.objects.filter(status=OutboxStatus.PENDING)
    assert set(pending.values_list("contact_id", flat=True)) >= {
        c.pk for c in contacts
    } - set(
        OutboxEntry.objects.filter(status=OutboxStatus.SENT).values_list(
            "contact_id", flat=True
        )
    )


def test_an_expired_session_is_renewed_once(salesforce, opt_outs):
    salesforce.faults.invalid_session(kind="collections_patch")

    run = sync_run(trigger=RunTrigger.RELAY)

    assert run.status == RunStatus.SUCCEEDED
    assert_all_pushed(salesforce, opt_outs)
    assert salesforce.counts == {"login": 2, "collections_patch": 3}


def test_a_session_refused_right_after_login_stops_the_run(salesforce, opt_outs):
    salesforce.faults.invalid_session(times=2, kind="collections_patch")

    run = sync_run(trigger=RunTrigger.RELAY)

    assert (run.status, run.error_code) == (RunStatus.FAILED, "INVALID_SESSION_ID")
    assert salesforce.counts == {"login": 2, "collections_patch": 2}
    assert_none_lost(opt_outs)


def test_the_request_limit_pauses_the_sync_without_losing_anything(
    salesforce, opt_outs
):
    salesforce.faults.request_limit_exceeded(kind="collections_patch")

    run = sync_run(trigger=RunTrigger.RELAY)

    assert run.status == RunStatus.DEFERRED
    assert run.error_code == "REQUEST_LIMIT_EXCEEDED"
    state = SyncState.objects.get()
    assert state.connection == ConnectionState.RATE_LIMITED
    assert state.paused_until > timezone.now() + timedelta(minutes=59)
    assert OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count() == 250

    # Nothing talks to Salesforce while paused, not even a login.
    before = salesforce.counts
    assert sync_run(trigger=RunTrigger.SCHEDULE) is None
    assert salesforce.counts == before

    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=True):
        later = sync_run(trigger=RunTrigger.RELAY)

    assert later.status == RunStatus.SUCCEEDED
    assert_all_pushed(salesforce, opt_outs)
    assert SyncState.objects.get().paused_until is None


def test_any_other_403_stops_and_is_recorded(salesforce, opt_outs):
    salesforce.faults.forbidden("INSUFFICIENT_ACCESS", kind="collections_patch")

    run = sync_run(trigger=RunTrigger.RELAY)

    assert (run.status, run.error_code) == (RunStatus.FAILED, "INSUFFICIENT_ACCESS")
    state = SyncState.objects.get()
    assert (state.connection, state.error_code) == (
        ConnectionState.REFUSED,
        "INSUFFICIENT_ACCESS",
    )
    # One refused request, no retry.
    assert salesforce.counts == {"login": 1, "collections_patch": 1}
    assert OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count() == 250

    sync_run(trigger=RunTrigger.RELAY)
    assert_all_pushed(salesforce, opt_outs)


@pytest.mark.parametrize(
    "inject",
    [
        pytest.param(lambda f: f.server_error(500, kind="collections_patch"), id="500"),
        pytest.param(lambda f: f.server_error(503, kind="collections_patch"), id="503"),
        pytest.param(lambda f: f.slow(1.5, kind="collections_patch"), id="slow"),
        pytest.param(
            lambda f: f.connection_reset(kind="collections_patch"), id="reset"
        ),
    ],
)
def test_a_passing_failure_is_retried_within_the_run(
    salesforce, settings, opt_outs, inject
):
    settings.SALESFORCE_TIMEOUT_SECONDS = 0.5
    inject(salesforce.faults)

    run = sync_run(trigger=RunTrigger.RELAY)

    assert run.status == RunStatus.SUCCEEDED
    assert_all_pushed(salesforce, opt_outs)
    assert salesforce.counts["collections_patch"] == 3
    assert run.pushed == 250


def test_a_failure_that_outlasts_the_retries_is_recorded_and_loses_nothing(
    salesforce, opt_outs
):
    salesforce.faults.server_error(500, times=3, kind="collections_patch")

    with pytest.raises(TransientError):
        sync_run(trigger=RunTrigger.RELAY)

    run = SyncRun.objects.get()
    assert (run.status, run.error_code) == (RunStatus.FAILED, "HTTP_500")
    assert SyncState.objects.get().connection == ConnectionState.UNREACHABLE
    assert OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count() == 250

    again = sync_run(trigger=RunTrigger.RELAY)
    assert again.status == RunStatus.SUCCEEDED
    assert_all_pushed(salesforce, opt_outs)
