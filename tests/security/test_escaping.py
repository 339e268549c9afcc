"""Stored markup is shown as text on every page, in the admin and in emails."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from salesforce_sync.models import OutboxEntry, OutboxReason, OutboxStatus
from tests.security.hostile import RAW_MARKERS, SCRIPT, hostile_contact
from unsubscribes import tokens
from unsubscribes.mail import email_send

pytestmark = pytest.mark.django_db

JAVASCRIPT_LINK = re.compile(
    r"""(href|src|action)\s*=\s*["']?\s*java\s*script:""", re.I
)


@pytest.fixture
def hostile(admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return hostile_contact(admin_user)


def assert_escaped(html: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"{where} shows {marker!r} unescaped"
    assert not JAVASCRIPT_LINK.search(html), f"{where} links to a javascript: URL"


def _pages(contact) -> dict[str, str]:
    """Every page of the app (and its HTMX partials) that shows this contact."""
    pk = contact.pk
    return {
        "People list": reverse("contacts:people"),
        "People list, searched": reverse("contacts:people") + "?q=Eve",
        "Person Details": reverse("contacts:person_detail", args=[pk]),
        "contact edit form": reverse("contacts:person_edit", args=[pk]),
        "Compliance card": reverse("compliance:card", args=[pk]),
        "Compliance card, editing": reverse("compliance:card_edit", args=[pk]),
        "Compliance history": reverse("compliance:history", args=[pk]),
        "delete confirmation": reverse("contacts:person_delete", args=[pk]),
        "send email": reverse("unsubscribes:send_email", args=[pk]),
        "resubscribe": reverse("unsubscribes:resubscribe", args=[pk]),
        "bulk Permission": reverse("compliance_bulk:permission")
        + f"?scope=ids&ids={pk}",
        "bulk Delete": reverse("contacts:bulk_delete") + f"?scope=ids&ids={pk}",
        "bulk export": reverse("exports:contacts_csv") + f"?scope=ids&ids={pk}",
        "Salesforce sync": reverse("salesforce_sync:page"),
        "admin: contacts": reverse("admin:contacts_contact_changelist"),
        "admin: contacts, searched": reverse("admin:contacts_contact_changelist")
        + "?q=eve.payload",
        "admin: contact": reverse("admin:contacts_contact_change", args=[pk]),
        "admin: compliance history": reverse(
            "admin:compliance_compliancechange_changelist"
        ),
        "admin: unsubscribe history": reverse(
            "admin:unsubscribes_subscriptionchange_changelist"
        ),
        "admin: sent emails": reverse("admin:unsubscribes_sentemail_changelist"),
        "admin: outbox": reverse("admin:salesforce_sync_outboxentry_changelist"),
    }


def test_every_page_showing_a_person_escapes_their_stored_markup(admin_client, hostile):
    OutboxEntry.objects.create(
        contact=hostile,
        reason=OutboxReason.UNSUBSCRIBE,
        status=OutboxStatus.FAILED,
        error_code="INVALID",
        error_message=SCRIPT,
    )
    for where, url in _pages(hostile).items():
        for htmx in (False, True):
            extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = admin_client.get(url, follow=True, **extra)
            assert response.status_code == 200, (where, response.status_code)
            assert_escaped(response.content.decode(), where)


def test_the_person_is_shown_escaped_not_left_out(admin_client, hostile):
    html = admin_client.get(hostile.get_absolute_url()).content.decode()

    assert "Eve&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    assert "Newsletter &lt;script&gt;" in html
    assert "Signed form &quot;&gt;&lt;img src=x" in html


def test_only_http_addresses_become_links(admin_client, hostile):
    from contacts.models import Contact

    Contact.objects.filter(pk=hostile.pk).update(
        website="https://acme.example/?a=1&b=2", facebook="data:text/html,hi"
    )

    html = admin_client.get(hostile.get_absolute_url()).content.decode()

    assert (
        '<a href="https://acme.example/?a=1&amp;b=2" rel="noopener noreferrer '
        'nofollow" target="_blank">' in html
    )
    assert 'href="data:' not in html
    assert "data:text/html,hi" in html
    assert_escaped(html, "Person Details")


def test_the_public_unsubscribe_pages_show_no_stored_text(client, hostile, settings):
    settings.UNSUBSCRIBE_RATE_LIMIT = "1000/m"
    url = reverse(
        "unsubscribes:unsubscribe", args=[tokens.unsubscribe_token(hostile.pk)]
    )

    for response in (client.get(url), client.post(url)):
        html = response.content.decode()
        assert_escaped(html, "unsubscribe page")
        assert "Eve" not in html


def test_the_html_body_of_an_email_escapes_what_the_sender_typed(sales_rep, hostile):
    email_send(
        contact_id=hostile.pk,
        subject="Hello",
        body=f'Dear customer,\n{SCRIPT}\n<a href="javascript:alert(1)">x</a>',
        sender=sales_rep,
    )

    html = {mime: body for body, mime in mail.outbox[0].alternatives}["text/html"]
    assert_escaped(html, "the email's HTML body")
    assert "&lt;script&gt;" in html
