"""The one sending service: the unsubscribe link and headers, or no email."""

import re

import pytest
from django.core import mail as django_mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from contacts.choices import PermissionType
from contacts.models import Contact, Suppression
from contacts.suppression import email_hash
from tests.factories import ContactFactory
from unsubscribes import mail, tokens
from unsubscribes.choices import Channel
from unsubscribes.models import SentEmail
from unsubscribes.services import contact_unsubscribe

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/u/([^/\s\"<>]+)/")


def _reachable(**fields) -> Contact:
    return ContactFactory(permission_type=PermissionType.LEGITIMATE_INTEREST, **fields)


def _send_from_person_details(client, contact, **data):
    return client.post(
        reverse("unsubscribes:send_email", args=[contact.pk]),
        {"subject": "Our spring offer", "body": "Hello,\nsee <b>this</b>.", **data},
        follow=True,
    )


def test_an_email_from_person_details_arrives_with_link_and_headers(
    rep_client, sales_rep, smtp_inbox, settings
):
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@example.com"
    contact = _reachable(email="ann@example.com")

    response = _send_from_person_details(rep_client, contact)

    assert "Email sent." in response.content.decode()
    [received] = smtp_inbox.messages
    assert smtp_inbox.envelopes[0].rcpt_tos == ["ann@example.com"]
    assert received["Subject"] == "Our spring offer"
    # The header may be folded over several lines on the wire.
    header = " ".join(received["List-Unsubscribe"].split())
    header_link, mailto = re.fullmatch(r"<([^>]+)>, <([^>]+)>", header).groups()
    assert mailto == "mailto:unsubscribe@example.com?subject=unsubscribe"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = LINK.fullmatch(header_link).group(1)
    assert tokens.contact_id_from_token(token) == contact.pk

    # SMTP carries CRLF line ends.
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = received.get_body(("html",)).get_content()
    assert text.startswith("Hello,\nsee <b>this</b>.")
    assert header_link in text
    assert f'<a href="{header_link}">unsubscribe</a>' in html
    assert "&lt;b&gt;this&lt;/b&gt;" in html

    record = SentEmail.objects.get()
    assert (record.contact, record.subject, record.sender) == (
        contact,
        "Our spring offer",
        sales_rep,
    )
    contact.refresh_from_db()
    assert contact.last_activity_at == record.sent_at


def test_without_a_mailto_address_the_header_holds_only_the_link(settings):
    settings.UNSUBSCRIBE_MAILTO = ""
    contact = _reachable()

    mail.email_send(contact_id=contact.pk, subject="Hi", body="Hi", sender_name="job")

    [sent] = django_mail.outbox
    assert re.fullmatch(
        r"<http://testserver/u/[^>]+/>", sent.extra_headers["List-Unsubscribe"]
    )


def _unsubscribed():
    contact = _reachable()
    contact_unsubscribe(contact_id=contact.pk, channel=Channel.USER, actor_name="x")
    return contact


def _suppressed():
    contact = _reachable()
    Suppression.objects.create(email_hash=email_hash(contact.email))
    return contact


def _permission_not_set():
    return ContactFactory(permission_type=PermissionType.NOT_SET)


@pytest.mark.parametrize(
    ("make_contact", "reason"),
    [
        (_unsubscribed, "Not sent: this person has unsubscribed."),
        (_suppressed, "is suppressed"),
        (_permission_not_set, "Not sent: set a Permission type"),
    ],
    ids=["unsubscribed", "suppressed", "permission not set"],
)
def test_emails_are_refused_with_a_clear_message(rep_client, make_contact, reason):
    contact = make_contact()

    response = _send_from_person_details(rep_client, contact)

    assert response.status_code == 200
    assert reason in response.context["form"].non_field_errors()[0]
    assert django_mail.outbox == []
    assert not SentEmail.objects.exists()


def test_not_set_contacts_may_be_emailed_when_the_setting_is_off(settings):
    settings.SEND_REQUIRES_PERMISSION_TYPE = False
    contact = _permission_not_set()

    mail.email_send(contact_id=contact.pk, subject="Hi", body="Hi", sender_name="job")

    assert len(django_mail.outbox) == 1


def test_an_unsubscribe_landing_after_composing_wins():
    contact = _reachable()
    message = mail.email_compose(contact=contact, subject="Hi", body="Hello")
    contact_unsubscribe(
        contact_id=contact.pk, channel=Channel.ONE_CLICK, actor_name="x"
    )

    with pytest.raises(mail.EmailRefused):
        mail.email_deliver(contact_id=contact.pk, message=message, sender_name="job")

    assert django_mail.outbox == []
    assert not SentEmail.objects.exists()


def _without_header(message):
    del message.extra_headers["List-Unsubscribe"]


def _without_post_header(message):
    del message.extra_headers["List-Unsubscribe-Post"]


def _without_text_link(message):
    message.body = "Hello"


def _without_html_link(message):
    message.alternatives = []
    message.attach_alternative("<p>Hello</p>", "text/html")


def _with_another_contacts_link(message):
    other = mail.unsubscribe_url(ContactFactory().pk)
    message.extra_headers["List-Unsubscribe"] = f"<{other}>"
    message.body += other


def _with_a_blind_copy(message):
    message.bcc = ["someone@example.com"]


@pytest.mark.parametrize(
    "break_message",
    [
        _without_header,
        _without_post_header,
        _without_text_link,
        _without_html_link,
        _with_another_contacts_link,
        _with_a_blind_copy,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_message_without_its_link_or_headers_cannot_leave(break_message):
    contact = _reachable()
    message = mail.email_compose(contact=contact, subject="Hi", body="Hello")
    break_message(message)

    with pytest.raises(mail.UnsubscribeLinkMissing):
        mail.email_deliver(contact_id=contact.pk, message=message, sender_name="job")

    assert django_mail.outbox == []
    assert not SentEmail.objects.exists()


def test_a_hand_built_message_cannot_leave():
    contact = _reachable()
    message = EmailMultiAlternatives("Hi", "Hello", to=[contact.email])

    with pytest.raises(mail.UnsubscribeLinkMissing):
        mail.email_deliver(contact_id=contact.pk, message=message, sender_name="job")

    assert django_mail.outbox == []


def test_a_subject_on_two_lines_is_a_field_error(rep_client):
    contact = _reachable()

    response = _send_from_person_details(rep_client, contact, subject="Hi\nBcc: x@y.z")

    assert "subject" in response.context["form"].errors
    assert django_mail.outbox == []


def test_a_mail_server_that_does_not_answer_is_a_message_not_a_500(
    rep_client, settings, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    settings.EMAIL_TIMEOUT = 2
    contact = _reachable()

    response = _send_from_person_details(rep_client, contact)

    assert response.status_code == 200
    assert "mail server did not answer" in response.content.decode()
    assert not SentEmail.objects.exists()
    assert any("failed at the mail server" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if contact.email in r.getMessage()]


def test_people_without_the_permission_cannot_send(outsider_client):
    contact = _reachable()

    response = _send_from_person_details(outsider_client, contact)

    assert response.status_code == 403
    assert django_mail.outbox == []


def test_person_details_offers_send_email_to_sales_reps(rep_client):
    contact = _reachable()

    html = rep_client.get(contact.get_absolute_url()).content.decode()

    assert reverse("unsubscribes:send_email", args=[contact.pk]) in html


def test_person_details_lists_the_emails_sent_newest_first(rep_client):
    contact = _reachable()
    for subject in ("First offer", "Second offer"):
        mail.email_send(
            contact_id=contact.pk, subject=subject, body="Hi", sender_name="job"
        )

    html = rep_client.get(contact.get_absolute_url()).content.decode()

    assert "Sent emails" in html
    assert html.index("Second offer") < html.index("First offer")
