"""Unsubscribing one contact or many, the history it leaves, and erasure."""

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.erasure import contacts_erase
from contacts.models import Contact
from tests.factories import ContactFactory, contacts_in_bulk
from tests.unsubscribes.factories import SentEmailFactory, SubscriptionChangeFactory
from unsubscribes.choices import Action, Channel
from unsubscribes.models import SentEmail, SubscriptionChange
from unsubscribes.services import contact_unsubscribe, contacts_bulk_unsubscribe
from unsubscribes.storage import private_storage

pytestmark = pytest.mark.django_db


def test_unsubscribing_records_history_and_status_together(
    sales_rep, heard, django_capture_on_commit_callbacks
):
    contact = ContactFactory()

    with django_capture_on_commit_callbacks(execute=True):
        changed = contact_unsubscribe(
            contact_id=contact.pk, channel=Channel.USER, actor=sales_rep
        )

    contact.refresh_from_db()
    change = SubscriptionChange.objects.get(contact=contact)
    assert changed is True
    assert contact.is_unsubscribed is True
    assert contact.subscription_changed_at == change.changed_at
    assert (change.action, change.channel) == (Action.UNSUBSCRIBE, Channel.USER)
    assert (change.actor, change.actor_name) == (sales_rep, "rep")
    assert heard == [
        {"contact_ids": [contact.pk], "action": "unsubscribe", "channel": "user"}
    ]


def test_unsubscribing_twice_adds_no_second_row(
    heard, django_capture_on_commit_callbacks
):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        contact_unsubscribe(
            contact_id=contact.pk, channel=Channel.ONE_CLICK, actor_name="x"
        )

    with django_capture_on_commit_callbacks(execute=True):
        changed = contact_unsubscribe(
            contact_id=contact.pk, channel=Channel.UNSUBSCRIBE_LINK, actor_name="x"
        )

    assert changed is False
    assert SubscriptionChange.objects.filter(contact=contact).count() == 1
    assert len(heard) == 1


@pytest.mark.parametrize("channel", [Channel.ADMIN_RESUBSCRIBE, "carrier pigeon"])
def test_an_unsubscribe_needs_an_unsubscribe_channel(channel):
    contact = ContactFactory()

    with pytest.raises(ValueError, match="Not an unsubscribe channel"):
        contact_unsubscribe(contact_id=contact.pk, channel=channel, actor_name="x")

    assert not SubscriptionChange.objects.exists()


def test_an_unsubscribe_needs_an_actor():
    contact = ContactFactory()

    with pytest.raises(ValueError, match="needs an actor"):
        contact_unsubscribe(contact_id=contact.pk, channel=Channel.USER)

    contact.refresh_from_db()
    assert contact.is_unsubscribed is False


def test_a_writer_whose_rows_cannot_be_written_stops_the_unsubscribe(heard):
    from unsubscribes import extensions

    def broken_writer(**kwargs):
        # A history row without its action breaks a NOT NULL constraint.
        return extensions.ChangeRows(model=SubscriptionChange, values={"action": None})

    extensions.register_subscription_writer(broken_writer)
    contact = ContactFactory()

    # Inside a caller's transaction, as the test is: a savepoint keeps it usable.
    with pytest.raises(IntegrityError), transaction.atomic():
        contact_unsubscribe(contact_id=contact.pk, channel=Channel.USER, actor_name="x")

    contact.refresh_from_db()
    assert contact.is_unsubscribed is False
    assert not SubscriptionChange.objects.exists()
    assert heard == []


def test_bulk_unsubscribe_skips_contacts_already_unsubscribed(
    sales_rep, heard, django_capture_on_commit_callbacks
):
    contacts = ContactFactory.create_batch(4)
    contact_unsubscribe(contact_id=contacts[0].pk, channel=Channel.USER, actor_name="x")

    with django_capture_on_commit_callbacks(execute=True):
        changed = contacts_bulk_unsubscribe(
            contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts[:3]]),
            actor=sales_rep,
        )

    assert changed == 2
    rows = SubscriptionChange.objects.filter(channel=Channel.BULK)
    assert sorted(rows.values_list("contact_id", flat=True)) == [
        contacts[1].pk,
        contacts[2].pk,
    ]
    assert set(rows.values_list("actor_name", flat=True)) == {"rep"}
    assert list(
        Contact.objects.order_by("pk").values_list("is_unsubscribed", flat=True)
    ) == [True, True, True, False]
    assert heard == [
        {
            "contact_ids": [contacts[1].pk, contacts[2].pk],
            "action": "unsubscribe",
            "channel": "bulk",
        }
    ]


def _bulk_queries(size: int, actor) -> int:
    ContactFactory.create_batch(size, company=f"Size {size}")
    with CaptureQueriesContext(connection) as queries:
        changed = contacts_bulk_unsubscribe(
            contacts=Contact.objects.filter(company=f"Size {size}"), actor=actor
        )
    assert changed == size
    return len(queries)


def test_bulk_unsubscribe_costs_the_same_queries_at_any_size(sales_rep):
    small = _bulk_queries(3, sales_rep)
    large = _bulk_queries(60, sales_rep)

    assert small == large
    assert SubscriptionChange.objects.count() == 63


def test_bulk_unsubscribe_works_through_several_batches(sales_rep, monkeypatch):
    from unsubscribes import services

    monkeypatch.setattr(services, "BATCH_SIZE", 4)
    ContactFactory.create_batch(10)

    changed = contacts_bulk_unsubscribe(contacts=Contact.objects.all(), actor=sales_rep)

    assert changed == 10
    assert not Contact.objects.filter(is_unsubscribed=False).exists()
    assert SubscriptionChange.objects.count() == 10


def test_the_history_refuses_update_and_delete_on_postgresql(postgres):
    change = SubscriptionChangeFactory()

    for statement in (
        "UPDATE unsubscribes_subscriptionchange SET channel = 'bulk'",
        "DELETE FROM unsubscribes_subscriptionchange",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)

    change.refresh_from_db()
    assert change.channel == Channel.USER


def test_a_contact_with_history_cannot_be_deleted_outside_erasure(postgres):
    change = SubscriptionChangeFactory()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(IntegrityError), transaction.atomic():
            Contact.objects.filter(pk=change.contact_id).delete()

    assert Contact.objects.filter(pk=change.contact_id).exists()


def test_an_admin_deleting_a_contact_erases_it_and_keeps_its_history_unlinked(
    admin_client,
):
    change = SubscriptionChangeFactory()
    SentEmailFactory(contact=change.contact)
    url = reverse("admin:contacts_contact_delete", args=[change.contact_id])

    confirmation = admin_client.get(url)
    response = admin_client.post(url, {"post": "yes"})

    assert "Cannot delete" not in confirmation.content.decode()
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=change.contact_id).exists()
    change.refresh_from_db()
    assert change.contact_id is None
    assert not SentEmail.objects.exists()


def test_erasure_unlinks_and_redacts_history_and_forgets_sent_emails(
    private_media, django_capture_on_commit_callbacks
):
    kept = SentEmailFactory()
    contact = ContactFactory()
    SentEmailFactory(contact=contact)
    change = SubscriptionChangeFactory(
        contact=contact,
        action=Action.RESUBSCRIBE,
        channel=Channel.ADMIN_RESUBSCRIBE,
        processing_purpose="Newsletter about our products",
        consent_obtained="Signed form at the fair",
        evidence_note="Form kept by Jane Doe",
        evidence_file=ContentFile(b"%PDF-1.4 signed", name="jane-doe.pdf"),
    )
    stored = change.evidence_file.name
    assert private_storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        contacts_erase(contact_ids=[contact.pk], channel="person", actor_name="rep")

    change.refresh_from_db()
    assert change.contact_id is None
    assert (change.action, change.channel) == (
        Action.RESUBSCRIBE,
        Channel.ADMIN_RESUBSCRIBE,
    )
    assert change.processing_purpose == change.consent_obtained == ""
    assert change.evidence_note == change.evidence_file.name == ""
    assert not private_storage.exists(stored)
    assert list(SentEmail.objects.all()) == [kept]


def _contact_updates() -> tuple[int, int]:
    """Return this transaction's row updates of the contact table, and the HOT ones."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relname = %s",
            [Contact._meta.db_table],
        )
        return cursor.fetchone()


def test_unsubscribes_rewrite_no_index_of_a_bulk_loaded_contact_table(postgres):
    # Hundreds of contacts fill pages as an import or a seed does.
    contacts = contacts_in_bulk(600)
    # One in twenty: a page or two apart, as clicks arrive.
    clicked = contacts[::20]
    updated_before, in_place_before = _contact_updates()

    for contact in clicked:
        contact_unsubscribe(
            contact_id=contact.pk, channel=Channel.ONE_CLICK, actor_name="recipient"
        )

    updated, in_place = _contact_updates()
    assert updated - updated_before == len(clicked)
    # Written beside the old row version: none of the table's indexes touched.
    assert in_place - in_place_before == len(clicked)


def test_an_unsubscribe_on_a_new_connection_prepares_its_statement_again(
    postgres, transactional_db
):
    # Prepared statements live as long as their connection; Django opens a
    # new one after CONN_MAX_AGE or a dropped link, and that one has none.
    before, after = ContactFactory.create_batch(2)
    contact_unsubscribe(
        contact_id=before.pk, channel=Channel.ONE_CLICK, actor_name="recipient"
    )
    connection.close()

    with CaptureQueriesContext(connection) as queries:
        contact_unsubscribe(
            contact_id=after.pk, channel=Channel.ONE_CLICK, actor_name="recipient"
        )

    statements = [query["sql"].split(None, 1)[0] for query in queries.captured_queries]
    assert statements == ["PREPARE", "EXECUTE"]
    after.refresh_from_db()
    assert after.is_unsubscribed is True
    assert SubscriptionChange.objects.filter(contact=after).count() == 1
