"""Creating and editing contacts' own fields."""

import pytest
from django.core.exceptions import ValidationError

from contacts.models import Contact
from contacts.services import (
    DUPLICATE_EMAIL,
    DUPLICATE_SALESFORCE_ID,
    contact_create,
    contact_update,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

SALESFORCE_15 = "0035g00000ABCDE"
SALESFORCE_18 = "0035g00000ABCDEAAX"


def errors(**fields) -> dict:
    with pytest.raises(ValidationError) as caught:
        contact_create(fields={"email": "new@example.com", **fields}, actor=None)
    return caught.value.message_dict


def test_a_contact_created_by_hand_has_source_type_manual_upload(sales_rep):
    contact = contact_create(
        fields={"first_name": " Anna ", "email": "anna@example.com"}, actor=sales_rep
    )

    contact.refresh_from_db()
    assert (contact.first_name, contact.source_type) == ("Anna", "manual_upload")


def test_emails_are_unique_whatever_their_case():
    ContactFactory(email="Anna.Muller@Example.com")

    assert errors(email="anna.muller@example.COM") == {"email": [DUPLICATE_EMAIL]}
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("salesforce_id", [SALESFORCE_15, SALESFORCE_18])
def test_salesforce_ids_of_15_or_18_characters_are_taken(salesforce_id):
    contact = contact_create(
        fields={"email": "sf@example.com", "salesforce_id": salesforce_id}, actor=None
    )

    assert contact.salesforce_id == salesforce_id


@pytest.mark.parametrize(
    "salesforce_id",
    ["0035g00000ABCD", "0035g00000ABCDEA", "0035g00000ABCDEAAXZ", "0035g0000-ABCDE"],
)
def test_other_salesforce_ids_are_refused(salesforce_id):
    assert "salesforce_id" in errors(salesforce_id=salesforce_id)


def test_a_salesforce_id_is_unique_when_set():
    ContactFactory(salesforce_id=SALESFORCE_18)
    contact_create(fields={"email": "a@example.com", "salesforce_id": ""}, actor=None)
    contact_create(fields={"email": "b@example.com", "salesforce_id": ""}, actor=None)

    assert errors(salesforce_id=SALESFORCE_18) == {
        "salesforce_id": [DUPLICATE_SALESFORCE_ID]
    }
    assert Contact.objects.filter(salesforce_id=None).count() == 2


@pytest.mark.parametrize("field", ["website", "facebook", "linkedin"])
@pytest.mark.parametrize("url", ["not a url", "javascript:alert(1)", "http://"])
def test_bad_urls_are_refused(field, url):
    assert field in errors(**{field: url})


@pytest.mark.parametrize(
    ("field", "length"),
    [("first_name", 101), ("company", 201), ("phone_number", 41), ("other", 501)],
)
def test_every_field_is_bounded(field, length):
    assert field in errors(**{field: "x" * length})


def test_an_email_is_required_and_must_look_like_one():
    assert "email" in errors(email="")
    assert "email" in errors(email="anna-at-example.com")


def test_updating_keeps_the_compliance_fields(sales_rep):
    contact = ContactFactory(permission_type="legitimate_interest")

    contact_update(
        contact_id=contact.pk,
        fields={"company": "Helsinki Data Oy", "email": contact.email.upper()},
        actor=sales_rep,
    )

    contact.refresh_from_db()
    assert contact.company == "Helsinki Data Oy"
    assert contact.permission_type == "legitimate_interest"


def test_updating_to_another_contacts_email_is_refused(sales_rep):
    ContactFactory(email="taken@example.com")
    contact = ContactFactory()

    with pytest.raises(ValidationError) as caught:
        contact_update(
            contact_id=contact.pk, fields={"email": "TAKEN@example.com"}, actor=None
        )

    assert caught.value.message_dict == {"email": [DUPLICATE_EMAIL]}
    contact.refresh_from_db()
    assert contact.email != "TAKEN@example.com"


def test_only_contact_fields_can_be_written():
    with pytest.raises(ValueError, match="permission_type"):
        contact_create(
            fields={"email": "x@example.com", "permission_type": "consent"}, actor=None
        )
