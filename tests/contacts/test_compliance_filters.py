"""The People list's filters for gaps in consent: missing evidence, expiry."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.choices import PermissionType
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

PEOPLE = reverse("contacts:people")
TODAY = timezone.localdate()
PURPOSE = "Quarterly product news by email"


def listed(client, query: str) -> set[int]:
    response = client.get(f"{PEOPLE}?{query}")
    assert response.status_code == 200
    return {contact.pk for contact in response.context["listing"].page.rows}


def consent(**fields):
    values = {"consent_date": datetime.date(2025, 5, 1), "processing_purpose": PURPOSE}
    return ContactFactory(permission_type=PermissionType.CONSENT, **values | fields)


def test_consent_without_a_date_or_a_purpose_is_missing_evidence(rep_client):
    complete = consent()
    no_date = consent(consent_date=None)
    no_purpose = consent(processing_purpose="")
    ContactFactory(permission_type=PermissionType.LEGITIMATE_INTEREST)

    assert listed(rep_client, "consent_evidence=missing") == {no_date.pk, no_purpose.pk}
    assert listed(rep_client, "consent_evidence=complete") == {complete.pk}


def test_consent_past_its_expiry_date_is_expired(rep_client):
    yesterday, tomorrow = (TODAY + datetime.timedelta(days=d) for d in (-1, 1))
    expired = consent(consent_expires_on=yesterday)
    expiring_tomorrow = consent(consent_expires_on=tomorrow)
    no_expiry = consent()
    other = ContactFactory(permission_type=PermissionType.CONTRACT)

    assert listed(rep_client, "consent_expired=yes") == {expired.pk}
    assert listed(rep_client, "consent_expired=no") == {
        expiring_tomorrow.pk,
        no_expiry.pk,
        other.pk,
    }


def test_an_unknown_value_is_a_field_error_not_a_500(rep_client):
    ContactFactory()

    response = rep_client.get(f"{PEOPLE}?consent_evidence=maybe&consent_expired=x")

    assert response.status_code == 200
    errors = response.context["listing"].filterset.errors
    assert set(errors) == {"consent_evidence", "consent_expired"}
