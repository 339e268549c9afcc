"""Reads for the Salesforce sync page and the Person Details card."""

from django.db.models import QuerySet

from salesforce_sync.models import OutboxEntry, OutboxStatus, SyncRun

RECENT_RUNS = 20
RECENT_FAILURES = 50


def recent_runs() -> QuerySet[SyncRun]:
    """Return the latest runs, newest first."""
    return SyncRun.objects.order_by("-started_at", "-id")[:RECENT_RUNS]


def pending_count() -> int:
    """Count outbox rows not yet sent."""
    return OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count()


def recent_failures() -> QuerySet[OutboxEntry]:
    """Return the latest outbox rows Salesforce refused, with their contacts."""
    return (
        OutboxEntry.objects.filter(status=OutboxStatus.FAILED)
        .select_related("contact")
        .order_by("-processed_at", "-id")[:RECENT_FAILURES]
    )


def failure_count() -> int:
    """Count outbox rows Salesforce refused."""
    return OutboxEntry.objects.filter(status=OutboxStatus.FAILED).count()


def contact_latest_entry(contact_id: int) -> OutboxEntry | None:
    """Return a contact's newest outbox row, if any."""
    return OutboxEntry.objects.filter(contact_id=contact_id).order_by("-id").first()
