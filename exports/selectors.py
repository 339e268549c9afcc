"""Reads for exports: which contacts a bulk export covers, and how to record it."""

from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import QueryDict

from contacts.filters import PeopleFilter
from contacts.models import Contact
from contacts.selection import Selection

REDACTED = "[redacted]"


@dataclass(frozen=True)
class BulkSelection:
    selection: Selection
    contacts: QuerySet[Contact]
    # What the export history keeps: never a search text, never a list of ids.
    description: dict


def recorded_filter(filter_query: str) -> dict[str, list[str]]:
    """Return a People-list filter as the export history keeps it.

    Free-text values (the search box) may hold a name or an email, so they are
    redacted; parameters that choose no rows (sorting, paging) are dropped.
    """
    params = QueryDict(filter_query)
    filters = PeopleFilter.base_filters
    recorded = {}
    for key in sorted(params):
        # Range filters arrive as <name>_after / <name>_before.
        name = next((n for n in filters if key == n or key.startswith(f"{n}_")), None)
        if name is None:
            continue
        free_text = isinstance(filters[name], django_filters.CharFilter)
        recorded[key] = [REDACTED] if free_text else params.getlist(key)
    return recorded


def bulk_selection(data: QueryDict) -> BulkSelection:
    """Read a People-list selection; raise contacts' SelectionError when it is bad."""
    selection = Selection.from_data(data)
    description: dict[str, Any]
    if selection.is_all_matching:
        description = {
            "mode": "all_matching",
            "filter": recorded_filter(selection.filter_query or ""),
        }
    else:
        description = {"mode": "selected", "count": len(selection.ids)}
    return BulkSelection(
        selection=selection,
        contacts=selection.queryset().order_by("id"),
        description=description,
    )
