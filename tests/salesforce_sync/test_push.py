"""Push: local unsubscribes and resubscribes reach Salesforce's opt-out field."""

import pytest

from salesforce_sync.models import OutboxEntry, OutboxStatus, RunTrigger, SyncRun
from salesforce_sync.services import sync_run
from tests.salesforce_sync.factories import linked_contacts, opted_out, unsubscribe

pytestmark = pytest.mark.django_db


def test_pushing_450_opt_outs_takes_three_collection_requests(salesforce):
    contacts = linked_contacts(salesforce, 450)
    unsubscribe(contacts)

    run = sync_run(trigger=RunTrigger.RELAY)

    assert all(opted_out(salesforce, contacts))
    assert salesforce.counts == {"login": 1, "collections_patch": 3}
    assert run.pushed == 450
    assert run.failed == 0
    assert run.requests == 4
    assert run.api_usage == 3
    assert run.api_limit == 15000
    assert not OutboxEntry.objects.exclude(status=OutboxStatus.SENT).exists()


def test_a_second_run_pushes_nothing(salesforce):
    contacts = linked_contacts(salesforce, 3)
    unsubscribe(contacts)
    sync_run(trigger=RunTrigger.RELAY)
    salesforce.reset()

    assert sync_run(trigger=RunTrigger.RELAY) is None
    assert salesforce.counts == {}
    assert SyncRun.objects.count() == 1
