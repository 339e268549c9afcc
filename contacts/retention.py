"""Storage limitation: which contacts are due for a review of their legal basis.

settings.RETENTION_REVIEW_MONTHS says, per Permission type, how long a contact
may go without activity before someone must decide to keep (re-confirm) or
erase them. Activity is Contact.last_activity_at, or the creation time for a
contact never active since. What counts as activity, and who writes it:
an email sent (unsubscribes.mail), a Compliance card saved with a change, a
resubscribe with proof and a re-confirmation (compliance.services), and an
import that updates the contact (contacts.importing). Unsubscribes, exports,
bulk relabelling and the Salesforce sync do not: none of them is contact with
the person or a decision about them.
"""

import datetime

from django.conf import settings
from django.core import checks
from django.db.models import Q
from django.utils import timezone

from contacts.choices import PermissionType


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """Return `moment` moved back by whole calendar months (31 March -> 28 Feb)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - datetime.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def review_cutoffs(
    now: datetime.datetime | None = None,
) -> dict[str, datetime.datetime]:
    """Return, per Permission type, the time before which inactivity needs review."""
    now = now or timezone.now()
    return {
        permission: months_before(now, months)
        for permission, months in settings.RETENTION_REVIEW_MONTHS.items()
    }


def needs_review_q(now: datetime.datetime | None = None) -> Q:
    """Return the condition "due for a retention review", computed now.

    Per type, two range conditions joined by OR, each answerable from an
    index on (permission_type, last_activity_at) or (permission_type,
    created_at), rather than one COALESCE no plain index serves.
    """
    condition = Q(pk__in=[])
    for permission, cutoff in review_cutoffs(now).items():
        condition |= Q(permission_type=permission) & (
            Q(last_activity_at__lt=cutoff)
            | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
        )
    return condition


@checks.register(checks.Tags.compatibility)
def check_retention_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Refuse RETENTION_REVIEW_MONTHS keys that are not Permission types."""
    unknown = set(settings.RETENTION_REVIEW_MONTHS) - set(PermissionType.values)
    if not unknown:
        return []
    return [
        checks.Error(
            "RETENTION_REVIEW_MONTHS names unknown Permission types: "
            f"{sorted(unknown)}",
            hint=f"Use these keys: {', '.join(PermissionType.values)}.",
            id="contacts.E001",
        )
    ]
