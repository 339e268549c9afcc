"""The consent's expiry date is edited on the Compliance card, with its rules."""

import datetime

import pytest
from django.urls import reverse

from compliance.models import ComplianceChange
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _save(client, contact, **fields):
    return client.post(
        reverse("compliance:card_edit", args=[contact.pk]),
        {
            "permission_type": "consent",
            "consent_date": "2026-01-10",
            "processing_purpose": "Newsletter about our products",
            "source_type": "not_set",
            "compliance_version": contact.compliance_version,
            **fields,
        },
    )


def test_the_card_form_offers_the_expiry_date(rep_client):
    contact = ContactFactory()

    html = rep_client.get(reverse("compliance:card_edit", args=[contact.pk])).content

    assert b'name="consent_expires_on"' in html
    assert b"Consent expires on" in html


def test_an_expiry_date_is_saved_shown_and_recorded(rep_client):
    contact = ContactFactory()

    _save(rep_client, contact, consent_expires_on="2028-01-10")

    contact.refresh_from_db()
    assert contact.consent_expires_on == datetime.date(2028, 1, 10)
    assert ComplianceChange.objects.filter(
        field="consent_expires_on", new_value="2028-01-10", channel="card"
    ).exists()
    card = rep_client.get(contact.get_absolute_url()).content.decode()
    assert "Consent expires on" in card


def test_consent_cannot_expire_before_it_was_given(rep_client):
    contact = ContactFactory()

    response = _save(rep_client, contact, consent_expires_on="2025-12-31")

    assert "Consent cannot expire before it was given." in response.content.decode()
    contact.refresh_from_db()
    assert contact.permission_type == "not_set"
