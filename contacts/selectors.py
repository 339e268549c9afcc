"""Reads of contacts: the People list's pages and totals, and suppression."""

from collections.abc import Iterable
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from contacts.models import BulkJob, Contact, Suppression
from contacts.pagination import Cursor, Page, Sort, keyset_page
from contacts.suppression import email_hashes_under_every_key

NAME_FIELDS = ("last_name", "first_name", "id")

# Each sort has an index of exactly these columns (contacts/models.py).
SORTS: dict[str, Sort] = {
    sort.key: sort
    for base, fields in (
        ("name", NAME_FIELDS),
        ("company", ("company", "id")),
        ("created", ("created_at", "id")),
        ("updated", ("updated_at", "id")),
    )
    for sort in (Sort(base, fields), Sort(f"-{base}", fields, descending=True))
}
DEFAULT_SORT = SORTS["name"]

# Above this many matches the list says "10,000+" rather than count them all.
COUNT_CAP = 10_000


def contact_list() -> QuerySet[Contact]:
    """Return every contact in the People list's default order."""
    return Contact.objects.order_by(*NAME_FIELDS)


def sort_named(key: str | None) -> Sort:
    """Return the sort called `key`, or the default sort for anything else."""
    return SORTS.get(key or "", DEFAULT_SORT)


def people_page(
    contacts: QuerySet[Contact],
    *,
    sort: Sort,
    cursor: Cursor | None,
    size: int,
    read_matches_first: bool = False,
) -> Page:
    """Return one page of the People list, with the columns it shows.

    `read_matches_first` asks PostgreSQL to find the matches through their own
    indexes and sort them, rather than walk the sort's index: right for a
    free-text search, or for a filter with at most COUNT_CAP matches.
    """
    columns = contacts.only(
        "id",
        "first_name",
        "last_name",
        "company",
        "title",
        "email",
        "permission_type",
        "source_type",
        "is_unsubscribed",
        "updated_at",
        "created_at",
    )
    if read_matches_first and connection.vendor == "postgresql":
        with transaction.atomic(using=contacts.db):
            _read_matches_then_sort()
            return keyset_page(columns, sort, cursor, size)
    return keyset_page(columns, sort, cursor, size)


def _read_matches_then_sort() -> None:
    # For LIMIT 51, PostgreSQL walks the sort's index and filters as it goes,
    # assuming matches are spread evenly along it. A search for "Schmidt"
    # sorted by name finds its matches bunched at S, after walking most of a
    # million rows (4 s measured). Reading the matches through the trigram or
    # filter indexes (bitmap scans stay on) and sorting them is bounded by the
    # number of matches, so plain index walks are switched off for this page.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")


def capped_count(contacts: QuerySet[Contact]) -> tuple[int, bool]:
    """Count matches up to COUNT_CAP; return (count, whether there are more).

    Counting stops at the cap + 1st row (a LIMIT inside the COUNT), so a total
    costs at most a bounded index scan however large the table is.
    """
    cap = COUNT_CAP
    count = contacts.order_by().values("id")[: cap + 1].count()
    return min(count, cap), count > cap


def suppressed_hashes(emails: Iterable[str]) -> set[str]:
    """Return the current-key hashes of those `emails` that are suppressed.

    One query for any number of emails. A caller tests an email with
    `email_hash(email) in suppressed_hashes(emails)`; an email suppressed under
    a fallback key (before a key rotation) is reported under its current hash.
    """
    by_any_hash: dict[str, str] = {}
    for email in emails:
        hashes = email_hashes_under_every_key(email)
        for candidate in hashes:
            by_any_hash[candidate] = hashes[0]
    if not by_any_hash:
        return set()
    found = Suppression.objects.filter(email_hash__in=by_any_hash).values_list(
        "email_hash", flat=True
    )
    return {by_any_hash[found_hash] for found_hash in found}


def is_suppressed(email: str) -> bool:
    """Return True if this email belongs to an erased person."""
    return bool(suppressed_hashes([email]))


def unfinished_jobs(user) -> QuerySet[BulkJob]:
    """Return the user's jobs still waiting or running, newest first.

    An import preview counts until it is confirmed or cancelled (for as long
    as its confirmation may be given): it is the first half of an import.
    """
    waiting_preview = Q(
        kind="import_preview",  # contacts.import_preview.KIND
        state=BulkJob.State.DONE,
        params__has_key="file",
        created_at__gte=timezone.now() - timedelta(days=1),
    ) & ~Q(params__has_key="closed")
    return BulkJob.objects.filter(
        Q(state__in=BulkJob.UNFINISHED) | waiting_preview,
        actor=user,
    ).order_by("-created_at")
