"""How compliance plugs into the lifecycle of contacts, and the demo data."""

import io

import pytest
from django.core.management import call_command

from compliance.models import ComplianceChange
from compliance.rules import clean_compliance, current_values
from compliance.services import compliance_update
from contacts import extensions
from contacts.erasure import ErasureChannel, contacts_erase
from contacts.models import Contact
from contacts.services import contact_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_contact_created_by_hand_starts_its_history_with_manual_upload(sales_rep):
    contact = contact_create(fields={"email": "anna@example.com"}, actor=sales_rep)

    rows = ComplianceChange.objects.filter(contact=contact)
    assert list(
        rows.values_list("channel", "field", "old_value", "new_value", "actor_name")
    ) == [("manual", "source_type", "not_set", "manual_upload", "rep")]


def test_created_contacts_get_a_row_per_field_set_on_arrival():
    contacts = [
        ContactFactory(source_type="import", permission_type="legitimate_interest"),
        ContactFactory(),
    ]

    extensions.run_hooks(
        extensions.CONTACTS_CREATED,
        contact_ids=[c.pk for c in contacts],
        actor=None,
        channel="import",
    )

    assert sorted(
        ComplianceChange.objects.values_list("contact_id", "field", "actor_name")
    ) == [
        (contacts[0].pk, "permission_type", "import"),
        (contacts[0].pk, "source_type", "import"),
    ]


def test_erasing_contacts_redacts_their_history(sales_rep):
    contact = contact_create(fields={"email": "gone@example.com"}, actor=sales_rep)

    extensions.run_hooks(extensions.CONTACTS_ERASING, contact_ids=[contact.pk])
    Contact.objects.filter(pk=contact.pk).delete()

    assert list(ComplianceChange.objects.values_list("contact_id", "new_value")) == [
        (None, "manual_upload")
    ]


def test_every_seeded_demo_contact_obeys_the_compliance_rules():
    call_command("seed_demo", contacts=300, stdout=io.StringIO())

    contacts = list(Contact.objects.all())
    assert len(contacts) == 300
    for contact in contacts:
        values = current_values(contact)
        assert clean_compliance(values) == values, contact.pk


def test_erasing_a_person_keeps_their_history_without_personal_values(sales_rep):
    erased, kept = ContactFactory.create_batch(2)
    for contact in (erased, kept):
        compliance_update(
            contact_id=contact.pk,
            changes={"permission_type": "other", "permission_type_description": "VIP"},
            channel="card",
            actor=sales_rep,
        )

    contacts_erase(
        contact_ids=[erased.pk], channel=ErasureChannel.PERSON, actor=sales_rep
    )

    assert not Contact.objects.filter(pk=erased.pk).exists()
    orphans = ComplianceChange.objects.filter(contact=None)
    assert sorted(orphans.values_list("field", "new_value")) == [
        ("permission_type", "other"),
        ("permission_type_description", "[erased]"),
    ]
    assert ComplianceChange.objects.filter(contact=kept, new_value="VIP").exists()
