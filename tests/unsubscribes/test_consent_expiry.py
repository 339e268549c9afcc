"""Expired consent blocks sending, as a missing Permission type does."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from contacts.choices import PermissionType
from tests.factories import ContactFactory
from unsubscribes.mail import EmailRefused, email_send
from unsubscribes.models import SentEmail

pytestmark = pytest.mark.django_db


def _consented(expires):
    return ContactFactory(
        permission_type=PermissionType.CONSENT,
        consent_date=datetime.date(2024, 1, 1),
        processing_purpose="Newsletter about our products",
        consent_expires_on=expires,
    )


def test_expired_consent_refuses_the_email(sales_rep):
    contact = _consented(timezone.localdate() - datetime.timedelta(days=1))

    with pytest.raises(EmailRefused, match="consent expired on"):
        email_send(contact_id=contact.pk, subject="Hi", body="Hello", sender=sales_rep)

    assert mail.outbox == []
    assert not SentEmail.objects.exists()


def test_consent_holds_through_its_expiry_day(sales_rep):
    contact = _consented(timezone.localdate())

    email_send(contact_id=contact.pk, subject="Hi", body="Hello", sender=sales_rep)

    assert len(mail.outbox) == 1


def test_the_send_email_page_says_why_before_anyone_types(rep_client):
    contact = _consented(datetime.date(2025, 1, 31))

    page = rep_client.get(reverse("unsubscribes:send_email", args=[contact.pk]))
    response = rep_client.post(
        reverse("unsubscribes:send_email", args=[contact.pk]),
        {"subject": "Hi", "body": "Hello"},
    )

    assert "consent expired on" in page.content.decode()
    assert "Not sent: this person&#x27;s consent expired on" in (
        response.content.decode()
    )
    assert mail.outbox == []


def test_the_expiry_is_checked_again_at_the_moment_of_sending(sales_rep):
    from unsubscribes.mail import email_compose, email_deliver

    contact = _consented(timezone.localdate() + datetime.timedelta(days=10))
    message = email_compose(contact=contact, subject="Hi", body="Hello")
    contact.consent_expires_on = timezone.localdate() - datetime.timedelta(days=1)
    contact.save(update_fields=["consent_expires_on"])

    with pytest.raises(EmailRefused):
        email_deliver(contact_id=contact.pk, message=message, sender=sales_rep)

    assert mail.outbox == []
