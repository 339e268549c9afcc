"""Erasure: the person goes, a keyed hash stays, and nothing else remembers them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import extensions, selectors
from contacts.erasure import ErasureChannel, contacts_erase
from contacts.models import Contact, Erasure, Suppression
from contacts.suppression import email_hash
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_erasing_deletes_the_rows_and_keeps_only_a_keyed_hash(sales_rep):
    contact = ContactFactory(email="Anna.Muller@Example.com")

    erased = contacts_erase(
        contact_ids=[contact.pk], channel=ErasureChannel.BULK, actor=sales_rep
    )

    assert erased == 1
    assert not Contact.objects.exists()
    suppression = Suppression.objects.get()
    assert suppression.email_hash == email_hash("anna.muller@example.com")
    assert "anna" not in suppression.email_hash.lower()
    record = Erasure.objects.get()
    assert (record.count, record.actor, record.channel) == (1, sales_rep, "bulk")


def test_the_hash_is_keyed_normalised_and_not_a_plain_digest(settings):
    import hashlib

    assert email_hash(" ANNA@example.com ") == email_hash("anna@example.com")
    assert email_hash("anna@example.com") != (
        hashlib.sha256(b"anna@example.com").hexdigest()
    )
    before = email_hash("anna@example.com")
    settings.SECRET_KEY = "another-secret-key-another-secret-key-0123456789"
    assert email_hash("anna@example.com") != before


def test_suppression_is_checked_case_insensitively_in_one_query(sales_rep):
    ContactFactory(email="gone@example.com")
    contacts_erase(
        contact_ids=list(Contact.objects.values_list("id", flat=True)),
        channel=ErasureChannel.BULK,
        actor=sales_rep,
    )

    with CaptureQueriesContext(connection) as queries:
        found = selectors.suppressed_hashes(
            [" Gone@Example.com", "kept@example.com", "other@example.com"]
        )

    assert found == {email_hash("gone@example.com")}
    assert len(queries) == 1
    assert selectors.is_suppressed("GONE@example.com ")
    assert not selectors.is_suppressed("kept@example.com")


def test_a_suppression_survives_a_secret_key_rotation(settings, sales_rep):
    old_key = settings.SECRET_KEY
    ContactFactory(email="gone@example.com")
    contacts_erase(
        contact_ids=list(Contact.objects.values_list("id", flat=True)),
        channel=ErasureChannel.BULK,
        actor=sales_rep,
    )

    settings.SECRET_KEY = "a-rotated-secret-key-a-rotated-secret-key-0123456789"
    settings.SECRET_KEY_FALLBACKS = [old_key]

    assert selectors.is_suppressed("gone@example.com")
    assert selectors.suppressed_hashes(["gone@example.com"]) == {
        email_hash("gone@example.com")
    }


def test_erasing_hooks_run_inside_the_transaction_before_the_rows_go(
    sales_rep, monkeypatch
):
    seen = []

    def hook(*, contact_ids):
        seen.append(
            (list(contact_ids), Contact.objects.filter(pk__in=contact_ids).count())
        )

    monkeypatch.setitem(extensions._hooks[extensions.CONTACTS_ERASING], "probe", hook)
    contacts = ContactFactory.create_batch(2)

    contacts_erase(
        contact_ids=[c.pk for c in contacts], channel="bulk", actor=sales_rep
    )

    assert seen == [([c.pk for c in contacts], 2)]


def test_a_failing_hook_rolls_the_whole_erasure_back(sales_rep, monkeypatch):
    def hook(*, contact_ids):
        raise RuntimeError("hook failed")

    monkeypatch.setitem(extensions._hooks[extensions.CONTACTS_ERASING], "bad", hook)
    contact = ContactFactory()

    with pytest.raises(RuntimeError):
        contacts_erase(contact_ids=[contact.pk], channel="bulk", actor=sales_rep)

    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not Suppression.objects.exists()
    assert not Erasure.objects.exists()


def test_person_details_offers_delete_with_a_confirmation(rep_client):
    contact = ContactFactory(first_name="Lena", last_name="Berg")
    url = reverse("contacts:person_delete", args=[contact.pk])

    details = rep_client.get(contact.get_absolute_url()).content.decode()
    confirmation = rep_client.get(url).content.decode()

    assert f'href="{url}"' in details
    assert "Delete Lena Berg?" in confirmation
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_deleting_from_person_details_erases_the_person(rep_client, sales_rep):
    contact = ContactFactory()

    response = rep_client.post(
        reverse("contacts:person_delete", args=[contact.pk]), follow=True
    )

    assert "Person deleted." in response.content.decode()
    assert not Contact.objects.exists()
    assert Erasure.objects.get().channel == "person"
    assert Erasure.objects.get().actor == sales_rep


def test_deleting_in_the_django_admin_is_an_erasure(admin_client):
    contacts = ContactFactory.create_batch(2)

    admin_client.post(
        reverse("admin:contacts_contact_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [c.pk for c in contacts],
            "post": "yes",
        },
    )

    assert not Contact.objects.exists()
    assert Suppression.objects.count() == 2
    assert Erasure.objects.get().channel == "admin"


def columns_holding(text: str) -> list[str]:
    """Return every table.column, of any text type, whose value contains `text`."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608
                [f"%{text}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


@pytest.mark.services
def test_after_deleting_the_email_is_nowhere_in_the_database(
    postgres, transactional_db, client
):
    from accounts.roles import SALES_REP
    from accounts.services import user_create
    from unsubscribes.services import contact_unsubscribe

    rep = user_create(username="scan-rep", password="rep-password-1", role=SALES_REP)
    client.force_login(rep)
    email = "Erase.Me@Example.org"
    contact = ContactFactory(email=email, first_name="Erasmus", last_name="Gone")
    contact_unsubscribe(
        contact_id=contact.pk, channel="unsubscribe_link", actor_name="test"
    )
    assert "contacts_contact.email" in columns_holding("erase.me")

    # Select the person by a search for their email, so the filter itself
    # (personal data) passes through the job.
    client.post(
        reverse("contacts:bulk_delete"),
        {"scope": "all", "filter": f"q={email}", "step": "apply"},
    )

    assert not Contact.objects.exists()
    assert columns_holding("erase.me") == []
    assert columns_holding("erasmus") == []
    assert selectors.is_suppressed(email)


def test_a_person_cannot_be_created_again_by_hand_after_erasure(sales_rep):
    from django.core.exceptions import ValidationError

    from contacts.services import contact_create

    gone = ContactFactory(email="gone@example.com")
    contacts_erase(contact_ids=[gone.pk], channel="bulk", actor=sales_rep)

    with pytest.raises(ValidationError) as refused:
        contact_create(fields={"email": "GONE@example.com"}, actor=sales_rep)

    assert "cannot be added again" in str(refused.value.message_dict["email"])
    assert not Contact.objects.exists()
