"""The one way the app sends email: with an unsubscribe link, or not at all.

Every email to a contact, by any path now or later, goes through
`email_send` (which composes the message) or, for a message composed
elsewhere, `email_deliver`. Both refuse contacts who are unsubscribed or
suppressed, whose consent has expired, and (SEND_REQUIRES_PERMISSION_TYPE)
contacts whose Permission type is "Not set". The delivery fails closed: a
message without the contact's own unsubscribe link in every body and both
List-Unsubscribe headers (RFC 2369, RFC 8058) raises instead of leaving.
"""

import logging
import re

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.choices import PermissionType
from contacts.models import Contact
from contacts.selectors import is_suppressed
from unsubscribes import tokens
from unsubscribes.models import SentEmail

logger = logging.getLogger(__name__)

ONE_CLICK = "List-Unsubscribe=One-Click"

UNSUBSCRIBED = gettext_lazy("Not sent: this person has unsubscribed.")
SUPPRESSED = gettext_lazy(
    "Not sent: this email address belongs to a deleted person and is suppressed."
)
PERMISSION_NOT_SET = gettext_lazy(
    "Not sent: set a Permission type on this person's Compliance card first."
)
CONSENT_EXPIRED = gettext_lazy(
    "Not sent: this person's consent expired on %(date)s. Record new consent "
    "on their Compliance card first."
)


class EmailRefused(Exception):
    """The contact may not be emailed; str() is the reason, for the user."""


class UnsubscribeLinkMissing(Exception):
    """A message lacks the unsubscribe link or headers; it was not sent."""


def refusal(contact: Contact) -> str | None:
    """Return why this contact may not be emailed, or None if they may."""
    if contact.is_unsubscribed:
        return str(UNSUBSCRIBED)
    if is_suppressed(contact.email):
        return str(SUPPRESSED)
    if (
        settings.SEND_REQUIRES_PERMISSION_TYPE
        and contact.permission_type == PermissionType.NOT_SET
    ):
        return str(PERMISSION_NOT_SET)
    # Consent that has run out is no legal basis, exactly like none at all.
    # The expiry date is the last day the consent holds.
    expires = contact.consent_expires_on
    if (
        contact.permission_type == PermissionType.CONSENT
        and expires is not None
        and expires < timezone.localdate()
    ):
        return str(CONSENT_EXPIRED) % {"date": date_format(expires)}
    return None


def unsubscribe_url(contact_id: int) -> str:
    """Return the absolute one-click unsubscribe link of a contact."""
    path = reverse(
        "unsubscribes:unsubscribe", args=[tokens.unsubscribe_token(contact_id)]
    )
    # Built from SITE_URL, never from a request's Host header.
    return f"{settings.SITE_URL}{path}"


def email_compose(
    *, contact: Contact, subject: str, body: str, from_email: str | None = None
) -> EmailMultiAlternatives:
    """Build the text and HTML message to one contact, with its unsubscribe link."""
    url = unsubscribe_url(contact.pk)
    # The footer is in EMAIL_LANGUAGE, never in the sender's own language.
    with translation.override(settings.EMAIL_LANGUAGE):
        footer = _("To stop receiving these emails, unsubscribe: %(url)s") % {
            "url": url
        }
        html_footer = _(
            'To stop receiving these emails, <a href="%(url)s">unsubscribe</a>.'
        )
    headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK}
    if settings.UNSUBSCRIBE_MAILTO:
        mailto = f"mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe"
        headers["List-Unsubscribe"] += f", <{mailto}>"

    message = EmailMultiAlternatives(
        subject=subject,
        body=f"{body.rstrip()}\n\n-- \n{footer}\n",
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[contact.email],
        headers=headers,
    )
    html_body = linebreaks(body.strip(), autoescape=True)
    html_footer = html_footer % {"url": escape(url)}
    message.attach_alternative(
        f"{html_body}\n<hr>\n<p>{html_footer}</p>\n", "text/html"
    )
    return message


def email_send(
    *,
    contact_id: int,
    subject: str,
    body: str,
    sender: User | None = None,
    sender_name: str = "",
) -> SentEmail:
    """Send one email to one contact, with its unsubscribe link, and record it.

    Raise EmailRefused (its text is for the user) when the contact may not be
    emailed; nothing is sent or recorded then.
    """
    contact = Contact.objects.get(pk=contact_id)
    reason = refusal(contact)
    if reason:
        raise EmailRefused(reason)
    message = email_compose(contact=contact, subject=subject, body=body)
    return email_deliver(
        contact_id=contact.pk, message=message, sender=sender, sender_name=sender_name
    )


_LINK_IN_HEADER = re.compile(r"<(https?://[^>]+)>")


def _check_unsubscribe_link(message: EmailMultiAlternatives, contact: Contact) -> None:
    """Raise UnsubscribeLinkMissing unless the message carries the contact's link."""
    if message.recipients() != [contact.email]:
        raise UnsubscribeLinkMissing("a message must go to exactly its contact")
    links = _LINK_IN_HEADER.findall(message.extra_headers.get("List-Unsubscribe", ""))
    if len(links) != 1:
        raise UnsubscribeLinkMissing("List-Unsubscribe must hold one https link")
    url = links[0]
    if message.extra_headers.get("List-Unsubscribe-Post") != ONE_CLICK:
        raise UnsubscribeLinkMissing("List-Unsubscribe-Post is missing")
    token = url.rstrip("/").rsplit("/", 1)[-1]
    if not url.startswith(settings.SITE_URL) or (
        tokens.contact_id_from_token(token) != contact.pk
    ):
        raise UnsubscribeLinkMissing("the link does not unsubscribe this contact")
    if url not in message.body:
        raise UnsubscribeLinkMissing("the text body lacks the link")
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html" and escape(url) not in content:
            raise UnsubscribeLinkMissing("the HTML body lacks the link")


def email_deliver(
    *,
    contact_id: int,
    message: EmailMultiAlternatives,
    sender: User | None = None,
    sender_name: str = "",
) -> SentEmail:
    """Hand one composed message to the mail backend, or refuse; record it.

    The only function that sends. Raise UnsubscribeLinkMissing for a message
    without the contact's link and headers, EmailRefused for a contact who may
    not be emailed (checked again here, at the moment of sending).
    """
    name = sender_name or (sender.get_username() if sender is not None else "")
    if not name:
        raise ValueError("A sent email needs a sender or a sender_name")

    with transaction.atomic():
        # The lock makes an unsubscribe that lands while this message was
        # being composed win: it either committed before this check, and the
        # message is refused, or it waits until the message has left.
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        _check_unsubscribe_link(message, contact)
        reason = refusal(contact)
        if reason:
            raise EmailRefused(reason)

        now = timezone.now()
        record = SentEmail(
            contact=contact,
            subject=message.subject[:200],
            sent_at=now,
            sender=sender,
            sender_name=name,
        )
        record.full_clean()
        message.send(fail_silently=False)
        record.save()
        Contact.objects.filter(pk=contact.pk).update(last_activity_at=now)

    logger.info("Email %s sent to contact %s", record.pk, contact.pk)
    return record
