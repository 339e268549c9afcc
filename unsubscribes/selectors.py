"""Reads of the unsubscribe history."""

from datetime import datetime

from django.db.models import Max, QuerySet

from unsubscribes.choices import Action
from unsubscribes.models import SentEmail, SubscriptionChange


def subscription_history(*, contact_id: int) -> QuerySet[SubscriptionChange]:
    """Return one contact's unsubscribes and resubscribes, newest first."""
    return SubscriptionChange.objects.filter(contact_id=contact_id).order_by(
        "-changed_at", "-id"
    )


def latest_unsubscribe_at(*, contact_id: int) -> datetime | None:
    """Return when the contact last unsubscribed, by any channel, or None."""
    return SubscriptionChange.objects.filter(
        contact_id=contact_id, action=Action.UNSUBSCRIBE
    ).aggregate(latest=Max("changed_at"))["latest"]


def sent_emails(*, contact_id: int, limit: int = 20) -> list[SentEmail]:
    """Return the latest emails sent to one contact, newest first."""
    return list(
        SentEmail.objects.filter(contact_id=contact_id).order_by("-sent_at", "-id")[
            :limit
        ]
    )
