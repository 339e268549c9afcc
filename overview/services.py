"""Compute the Compliance overview's figures and store them as a Summary."""

import datetime
import logging
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import CharField, Count, F, Value
from django.db.models.functions import Cast, Concat, TruncWeek
from django.utils import timezone

from compliance.models import ComplianceChange
from contacts.models import Contact
from overview.gaps import GAPS
from overview.models import Summary
from salesforce_sync.models import OutboxEntry, OutboxStatus, RunStatus, SyncRun
from unsubscribes.models import SubscriptionChange

logger = logging.getLogger(__name__)

WEEKS = 26


def first_week(now: datetime.datetime) -> datetime.date:
    """Return the Monday that starts the overview's six months of weeks."""
    today = timezone.localdate(now)
    this_monday = today - datetime.timedelta(days=today.weekday())
    return this_monday - datetime.timedelta(weeks=WEEKS - 1)


def _week_key(value: datetime.datetime | datetime.date) -> str:
    day = value.date() if isinstance(value, datetime.datetime) else value
    return day.isoformat()


def _counts_by(field: str) -> dict[str, int]:
    rows = Contact.objects.order_by().values(field).annotate(n=Count("id"))
    return {row[field]: row["n"] for row in rows}


def _subscription_weeks(since: datetime.datetime) -> list[dict[str, Any]]:
    rows = (
        SubscriptionChange.objects.filter(changed_at__gte=since)
        .annotate(week=TruncWeek("changed_at"))
        .order_by()
        .values("week", "action", "channel")
        .annotate(n=Count("id"))
    )
    return [
        {
            "week": _week_key(row["week"]),
            "action": row["action"],
            "channel": row["channel"],
            "count": row["n"],
        }
        for row in rows
    ]


def _compliance_weeks(since: datetime.datetime) -> list[dict[str, Any]]:
    # A change writes one history row per field it touched, all with the same
    # contact and time: counting those pairs counts each change once.
    change = Concat(
        Cast("contact_id", CharField()),
        Value("@"),
        Cast("changed_at", CharField()),
        output_field=CharField(),
    )
    rows = (
        ComplianceChange.objects.filter(changed_at__gte=since)
        .annotate(week=TruncWeek("changed_at"), event=change)
        .order_by()
        .values("week", "channel")
        .annotate(n=Count(F("event"), distinct=True))
    )
    return [
        {"week": _week_key(row["week"]), "channel": row["channel"], "count": row["n"]}
        for row in rows
    ]


def _sync_health(now: datetime.datetime) -> dict[str, Any]:
    day_ago = now - datetime.timedelta(hours=24)
    last_success = (
        SyncRun.objects.filter(status=RunStatus.SUCCEEDED, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return {
        "last_success": last_success.isoformat() if last_success else None,
        "pending": OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count(),
        "failed_pushes": OutboxEntry.objects.filter(
            status=OutboxStatus.FAILED, processed_at__gte=day_ago
        ).count(),
        "failed_runs": SyncRun.objects.filter(
            status=RunStatus.FAILED, started_at__gte=day_ago
        ).count(),
    }


def summary_compute(*, now: datetime.datetime) -> dict[str, Any]:
    """Return the overview's figures as of `now`: codes and counts, JSON-ready."""
    start = first_week(now)
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time()))
    return {
        "contacts": Contact.objects.count(),
        "permission_types": _counts_by("permission_type"),
        "source_types": _counts_by("source_type"),
        "gaps": {gap.key: gap.count() for gap in GAPS},
        "first_week": start.isoformat(),
        "subscriptions": _subscription_weeks(since),
        "compliance": _compliance_weeks(since),
        "sync": _sync_health(now),
    }


@transaction.atomic
def summary_refresh() -> Summary:
    """Recompute the overview's figures and make them the ones the page shows."""
    now = timezone.now()
    summary = Summary(computed_at=now, figures=summary_compute(now=now))
    summary.full_clean()
    summary.save()
    # Only the newest summary is ever read; a refresh running at the same time
    # keeps its own row until the next one replaces both.
    Summary.objects.filter(computed_at__lt=now).delete()
    logger.info("Overview summary %d computed", summary.pk)
    return summary


# A refresh scans the whole contact table; however often people press the
# button, at most one is queued per this many seconds.
REFRESH_COOLDOWN_SECONDS = 60
_REFRESH_QUEUED = "overview:refresh-queued"


def summary_refresh_request() -> bool:
    """Queue a refresh unless one was queued moments ago; return whether it was."""
    from overview import tasks  # the task module imports this one

    if not cache.add(_REFRESH_QUEUED, True, timeout=REFRESH_COOLDOWN_SECONDS):
        return False
    transaction.on_commit(tasks.summary_refresh.delay)
    return True
