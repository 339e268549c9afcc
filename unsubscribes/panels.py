"""What unsubscribes adds to Person Details."""

from typing import Any

from django.http import HttpRequest

from contacts.models import Contact
from unsubscribes import selectors


def subscription_panel_context(
    request: HttpRequest, contact: Contact
) -> dict[str, Any]:
    user = request.user
    return {
        "history": selectors.subscription_history(contact_id=contact.pk),
        "can_unsubscribe": user.has_perm("unsubscribes.unsubscribe_contact"),
        "can_send_email": user.has_perm("unsubscribes.send_email"),
        "can_resubscribe": user.has_perm("unsubscribes.resubscribe_contact"),
        "can_download_evidence": user.has_perm("unsubscribes.download_evidence"),
    }


def sent_emails_panel_context(request: HttpRequest, contact: Contact) -> dict[str, Any]:
    return {"sent_emails": selectors.sent_emails(contact_id=contact.pk)}
