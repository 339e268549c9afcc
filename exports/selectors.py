"""Reads for exports: which contacts a bulk export covers."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict

from contacts.models import Contact


class BadSelection(ValueError):
    """The request's selection cannot be read."""


@dataclass(frozen=True)
class BulkSelection:
    contacts: QuerySet[Contact]
    # What the export history keeps: the filter, or how many ids were picked.
    description: dict


def bulk_selection(data: QueryDict) -> BulkSelection:
    """Return the contacts a People-list selection names, and how to record it."""
    raw_ids = data.getlist("ids")
    try:
        ids = sorted({int(value) for value in raw_ids})
    except ValueError as error:
        raise BadSelection("ids must be integers") from error
    if not ids:
        raise BadSelection("nothing selected")
    return BulkSelection(
        contacts=Contact.objects.filter(pk__in=ids).order_by("id"),
        description={"mode": "ids", "count": len(ids)},
    )
