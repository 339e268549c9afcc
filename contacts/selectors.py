"""Reads of contacts: the People list's pages and totals, and suppression."""

from django.db.models import QuerySet

from contacts.models import Contact
from contacts.pagination import Cursor, Page, Sort, keyset_page

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
    contacts: QuerySet[Contact], *, sort: Sort, cursor: Cursor | None, size: int
) -> Page:
    """Return one page of the People list, with the columns it shows."""
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
    return keyset_page(columns, sort, cursor, size)


def capped_count(contacts: QuerySet[Contact]) -> tuple[int, bool]:
    """Count matches up to COUNT_CAP; return (count, whether there are more).

    Counting stops at the cap + 1st row (a LIMIT inside the COUNT), so a total
    costs at most a bounded index scan however large the table is.
    """
    cap = COUNT_CAP
    count = contacts.order_by().values("id")[: cap + 1].count()
    return min(count, cap), count > cap
