"""Pull: opt-outs made in Salesforce become local unsubscribes; opt-out wins."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.choices import SourceType
from contacts.models import Contact
from salesforce_sync.models import (
    OutboxEntry,
    OutboxReason,
    OutboxStatus,
    RunTrigger,
    SyncState,
)
from salesforce_sync.services import sync_run
from tests.factories import ContactFactory
from tests.salesforce_sync.factories import (
    forget_requests,
    linked_contacts,
    opted_out,
    unsubscribe,
)

pytestmark = pytest.mark.django_db


def opt_out_in_salesforce(standin, contacts, value=True):
    for contact in contacts:
        standin.store.apply_update(contact.salesforce_id, {"HasOptedOutOfEmail": value})


def test_opt_outs_are_pulled_through_every_page(salesforce):
    contacts = linked_contacts(salesforce, 5)
    leads = linked_contacts(salesforce, 2, sobject="Lead")
    opt_out_in_salesforce(salesforce, contacts[:3] + leads[:1])
    salesforce.query_batch_size = 2

    run = sync_run()

    unsubscribed = set(
        Contact.objects.filter(is_unsubscribed=True).values_list("pk", flat=True)
    )
    assert unsubscribed == {c.pk for c in contacts[:3] + leads[:1]}
    assert (run.pulled, run.received, run.pushed) == (7, 4, 0)
    # The first page of both in one batch; then Contacts' other 3 records in
    # pages of 2 (the 2 Leads fit the first page).
    assert salesforce.counts == {"login": 1, "composite_batch": 1, "query_more": 2}
    assert salesforce.subrequest_counts == {"query": 2}
    assert run.requests == 4
    change = contacts[0].subscription_changes.get()
    assert (change.channel, change.actor_name) == ("salesforce_sync", "Salesforce sync")
    # Unsubscribes that came from Salesforce are not sent back to it.
    assert not OutboxEntry.objects.exists()


def test_a_pull_with_nothing_changed_takes_one_request(salesforce):
    linked_contacts(salesforce, 3)
    linked_contacts(salesforce, 1, sobject="Lead")
    sync_run()
    forget_requests(salesforce)

    run = sync_run()

    # Every run logs in; beyond that, one Composite Batch holds both queries.
    assert salesforce.counts == {"login": 1, "composite_batch": 1}
    assert salesforce.subrequest_counts == {"query": 2}
    assert [(sub.kind, sub.status) for sub in salesforce.requests[1].subrequests] == [
        ("query", 200),
        ("query", 200),
    ]
    assert (run.requests, run.received, run.pushed) == (2, 0, 0)
    # Salesforce counts each subrequest of a batch against the API limit.
    assert run.api_usage == salesforce.api_requests_used == 2


def test_later_pages_of_contacts_and_leads_take_turns(salesforce):
    contacts = linked_contacts(salesforce, 5)
    leads = linked_contacts(salesforce, 4, sobject="Lead")
    opt_out_in_salesforce(salesforce, contacts[-1:] + leads[-1:])
    salesforce.query_batch_size = 2

    run = sync_run()

    # Taking turns keeps both query locators busy: Salesforce drops idle ones.
    kinds = [r.kind for r in salesforce.requests]
    assert kinds == ["login", "composite_batch", *["query_more"] * 3]
    cursors = [r.path.rsplit("/", 1)[1].split("-")[0] for r in salesforce.requests]
    assert cursors[2] != cursors[3]
    assert cursors[2] == cursors[4]
    assert (run.pulled, run.received) == (9, 2)
    state = SyncState.objects.get()
    assert None not in (state.contact_watermark, state.lead_watermark)


def test_the_pull_reads_from_the_watermark_minus_the_overlap(salesforce):
    now = timezone.now()
    stamps = {
        "old": now - timedelta(hours=1),
        "in_overlap": now - timedelta(minutes=4),
        "newest": now,
    }
    for name, stamp in stamps.items():
        salesforce.store.add_contact(
            Email=f"{name}@example.com", LastName=name, SystemModstamp=stamp
        )
    first = sync_run()
    assert SyncState.objects.get().contact_watermark == stamps["newest"].replace(
        microsecond=stamps["newest"].microsecond // 1000 * 1000
    )

    second = sync_run()

    assert (first.pulled, second.pulled) == (3, 2)


def test_salesforce_not_opted_out_never_resubscribes_and_is_pushed_back(salesforce):
    (contact,) = linked_contacts(salesforce, 1)
    unsubscribe([contact])
    sync_run()
    assert opted_out(salesforce, [contact]) == [True]
    # Someone clears the opt-out in Salesforce.
    opt_out_in_salesforce(salesforce, [contact], value=False)

    sync_run()

    contact.refresh_from_db()
    assert contact.is_unsubscribed is True
    assert opted_out(salesforce, [contact]) == [True]
    assert contact.subscription_changes.count() == 1
    assert OutboxEntry.objects.latest("id").reason == "push_back"


def test_records_are_matched_by_id_then_by_email(salesforce):
    by_email = ContactFactory(email="ada@example.com")
    record_id = salesforce.store.add_contact(
        Email="ADA@example.com", LastName="Lovelace", HasOptedOutOfEmail=True
    )

    sync_run()

    by_email.refresh_from_db()
    assert by_email.is_unsubscribed is True
    assert by_email.salesforce_id == record_id


def test_a_second_run_changes_nothing(salesforce):
    contacts = linked_contacts(salesforce, 4)
    opt_out_in_salesforce(salesforce, contacts[:2])
    unsubscribe(contacts[2:3])
    sync_run()
    history = sorted(
        Contact.objects.filter(subscription_changes__isnull=False).values_list(
            "pk", "subscription_changes__id"
        )
    )
    forget_requests(salesforce)

    run = sync_run()

    assert (run.received, run.pushed, run.failed) == (0, 0, 0)
    assert salesforce.counts["collections_patch"] == 0
    assert (
        sorted(
            Contact.objects.filter(subscription_changes__isnull=False).values_list(
                "pk", "subscription_changes__id"
            )
        )
        == history
    )


def test_unknown_records_are_created_when_the_setting_says_so(salesforce, settings):
    settings.SALESFORCE_CREATE_UNKNOWN_CONTACTS = True
    salesforce.store.add_contact(
        Email="new@example.com", FirstName="New", LastName="Person"
    )
    salesforce.store.add_lead(
        Email="gone@example.com",
        LastName="Gone",
        Company="Acme",
        HasOptedOutOfEmail=True,
    )

    run = sync_run()

    created = Contact.objects.get(email="new@example.com")
    assert created.source_type == SourceType.CRM_SYNC
    assert (created.first_name, created.last_name) == ("New", "Person")
    assert created.is_unsubscribed is False
    opted = Contact.objects.get(email="gone@example.com")
    assert (opted.company, opted.is_unsubscribed) == ("Acme", True)
    assert run.received == 1


def test_unknown_records_are_left_alone_by_default(salesforce):
    salesforce.store.add_contact(Email="new@example.com", LastName="Person")

    sync_run(trigger=RunTrigger.SCHEDULE)

    assert not Contact.objects.exists()


def test_erased_people_are_not_created_again(salesforce, settings):
    from contacts.erasure import ErasureChannel, contacts_erase

    settings.SALESFORCE_CREATE_UNKNOWN_CONTACTS = True
    erased = ContactFactory(email="erased@example.com")
    contacts_erase(
        contact_ids=[erased.pk], channel=ErasureChannel.PERSON, actor_name="Ada"
    )
    salesforce.store.add_contact(Email="Erased@Example.com", LastName="Gone")
    salesforce.store.add_contact(Email="not-an-email", LastName="Broken")

    sync_run()

    assert not Contact.objects.exists()


def test_erasing_a_contact_leaves_only_its_records_opt_out_until_sent(salesforce):
    from contacts.erasure import ErasureChannel, contacts_erase

    unsubscribed, subscribed = linked_contacts(salesforce, 2)
    unlinked = ContactFactory()
    unsubscribe([unsubscribed])
    assert OutboxEntry.objects.filter(contact=unsubscribed).exists()
    records = [unsubscribed.salesforce_id, subscribed.salesforce_id]

    contacts_erase(
        contact_ids=[unsubscribed.pk, subscribed.pk, unlinked.pk],
        channel=ErasureChannel.PERSON,
        actor_name="Ada",
    )

    # The contacts' own rows are gone; one row a linked person names the record.
    left = OutboxEntry.objects.order_by("salesforce_id")
    assert [(e.contact_id, e.reason, e.salesforce_id) for e in left] == [
        (None, OutboxReason.ERASURE, record) for record in sorted(records)
    ]

    run = sync_run(trigger=RunTrigger.RELAY)

    assert run.pushed == 2
    assert [salesforce.store.get(r)["HasOptedOutOfEmail"] for r in records] == [
        True,
        True,
    ]
    assert [(e.status, e.salesforce_id) for e in OutboxEntry.objects.all()] == [
        (OutboxStatus.SENT, ""),
        (OutboxStatus.SENT, ""),
    ]
