"""Push: local unsubscribes and resubscribes reach Salesforce's opt-out field."""

import pytest

from salesforce_sync.models import OutboxEntry, OutboxStatus, RunTrigger, SyncRun
from salesforce_sync.services import sync_run
from tests.salesforce_sync.factories import (
    forget_requests,
    linked_contacts,
    opted_out,
    unsubscribe,
)

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
    forget_requests(salesforce)

    assert sync_run(trigger=RunTrigger.RELAY) is None
    assert salesforce.counts == {}
    assert SyncRun.objects.count() == 1


def test_contacts_without_an_id_are_found_by_email_contacts_then_leads(salesforce):
    from tests.factories import ContactFactory

    as_contact = ContactFactory(email="Ada@Example.com")
    as_lead = ContactFactory(email="lin@example.com")
    nowhere = ContactFactory(email="ghost@example.com")
    contact_id = salesforce.store.add_contact(Email="ada@example.com", LastName="A")
    lead_id = salesforce.store.add_lead(
        Email="LIN@example.com", LastName="L", Company="Acme"
    )
    unsubscribe([as_contact, as_lead, nowhere])

    run = sync_run(trigger=RunTrigger.RELAY)

    as_contact.refresh_from_db()
    as_lead.refresh_from_db()
    assert (as_contact.salesforce_id, as_lead.salesforce_id) == (contact_id, lead_id)
    assert salesforce.store.get(contact_id)["HasOptedOutOfEmail"] is True
    assert salesforce.store.get(lead_id)["HasOptedOutOfEmail"] is True
    # One lookup of Contacts, one of Leads for what was left, one update.
    assert salesforce.counts == {"login": 1, "query": 2, "collections_patch": 1}
    failed = OutboxEntry.objects.get(contact=nowhere)
    assert (failed.status, failed.error_code) == (OutboxStatus.FAILED, "NO_MATCH")
    assert (run.pushed, run.failed) == (2, 1)


@pytest.mark.fault("Salesforce faults as in the sync issue", attempts=3)
def test_per_record_errors_are_recorded_and_not_retried(salesforce):
    ok, deleted, blocked = linked_contacts(salesforce, 3)
    salesforce.store.delete(deleted.salesforce_id)
    salesforce.faults.fail_records(
        [blocked.salesforce_id], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Blocked"
    )
    unsubscribe([ok, deleted, blocked])

    run = sync_run(trigger=RunTrigger.RELAY)

    rows = {row.contact_id: row for row in OutboxEntry.objects.all()}
    assert rows[ok.pk].status == OutboxStatus.SENT
    assert (rows[deleted.pk].status, rows[deleted.pk].error_code) == (
        OutboxStatus.FAILED,
        "ENTITY_IS_DELETED",
    )
    assert rows[blocked.pk].error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert rows[blocked.pk].error_message == "Blocked"
    assert (run.pushed, run.failed) == (1, 2)

    forget_requests(salesforce)
    assert sync_run(trigger=RunTrigger.RELAY) is None
    assert salesforce.counts == {}


@pytest.mark.fault("Salesforce faults as in the sync issue", attempts=3)
def test_a_passing_record_error_is_tried_again_next_run(salesforce):
    (contact,) = linked_contacts(salesforce, 1)
    salesforce.faults.fail_records(
        [contact.salesforce_id], "UNABLE_TO_LOCK_ROW", times=1
    )
    unsubscribe([contact])

    first = sync_run(trigger=RunTrigger.RELAY)
    second = sync_run(trigger=RunTrigger.RELAY)

    assert (first.pushed, second.pushed) == (0, 1)
    assert opted_out(salesforce, [contact]) == [True]
    assert OutboxEntry.objects.get().status == OutboxStatus.SENT


def test_more_than_the_bulk_threshold_goes_through_bulk_api(salesforce, settings):
    settings.SALESFORCE_BULK_THRESHOLD = 5
    contacts = linked_contacts(salesforce, 6) + linked_contacts(
        salesforce, 2, sobject="Lead"
    )
    salesforce.faults.fail_records([contacts[0].salesforce_id], "ENTITY_IS_DELETED")
    unsubscribe(contacts)

    run = sync_run(trigger=RunTrigger.RELAY)

    assert opted_out(salesforce, contacts[1:]) == [True] * 7
    assert (run.pushed, run.failed) == (7, 1)
    counts = salesforce.counts
    assert counts["collections_patch"] == 0
    # Per job (Contact, Lead): create, upload, close and two result reads,
    # plus polls.
    for kind in ("bulk_create", "bulk_upload", "bulk_close"):
        assert counts[kind] == 2
    assert counts["bulk_results"] == 4
    assert OutboxEntry.objects.get(contact=contacts[0]).error_code == (
        "ENTITY_IS_DELETED"
    )


def test_a_resubscribe_with_proof_pushes_opt_out_false(salesforce, admin_user):
    (contact,) = linked_contacts(salesforce, 1)
    unsubscribe([contact])
    sync_run(trigger=RunTrigger.RELAY)
    assert opted_out(salesforce, [contact]) == [True]

    resubscribe(contact, admin_user)
    run = sync_run(trigger=RunTrigger.RELAY)

    assert opted_out(salesforce, [contact]) == [False]
    assert run.pushed == 1
    latest = OutboxEntry.objects.latest("id")
    assert (latest.reason, latest.status, latest.opted_out) == (
        "resubscribe",
        OutboxStatus.SENT,
        False,
    )


def test_a_resubscribe_never_overwrites_a_later_salesforce_opt_out(
    salesforce, admin_user
):
    (contact,) = linked_contacts(salesforce, 1)
    unsubscribe([contact])
    sync_run(trigger=RunTrigger.RELAY)
    resubscribe(contact, admin_user)
    # Someone opts the person out in Salesforce before the relay runs.
    salesforce.store.apply_update(contact.salesforce_id, {"HasOptedOutOfEmail": False})
    salesforce.store.apply_update(contact.salesforce_id, {"HasOptedOutOfEmail": True})

    sync_run(trigger=RunTrigger.RELAY)

    contact.refresh_from_db()
    assert contact.is_unsubscribed is True
    assert opted_out(salesforce, [contact]) == [True]
    assert OutboxEntry.objects.latest("id").status == OutboxStatus.SUPERSEDED
    assert contact.subscription_changes.latest("id").channel == "salesforce_sync"


def resubscribe(contact, admin_user):
    from django.utils import timezone

    from unsubscribes.services import ConsentProof, contact_resubscribe

    contact_resubscribe(
        contact_id=contact.pk,
        actor=admin_user,
        proof=ConsentProof(
            consent_date=timezone.localdate(),
            processing_purpose="Newsletter",
            consent_obtained="Signed form",
            evidence_note="Form 12",
        ),
    )


def test_a_bulk_unsubscribe_writes_its_outbox_rows_in_one_statement(
    postgres, salesforce
):
    # PostgreSQL only: SQLite caps a statement at 999 parameters, so Django
    # splits a large INSERT there.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def outbox_inserts(count: int) -> int:
        contacts = linked_contacts(salesforce, count)
        with CaptureQueriesContext(connection) as queries:
            unsubscribe(contacts)
        return sum(
            'INSERT INTO "salesforce_sync_outboxentry"' in q["sql"] for q in queries
        )

    assert outbox_inserts(5) == outbox_inserts(300) == 1
    assert OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count() == 305
