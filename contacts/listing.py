"""What the People list page shows: filters, sort links, a page, a total.

The view stays thin; this module turns a request's querystring into the page's
parts, and builds the links that carry the filter state (so a filtered, sorted
view can be bookmarked and shared).
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from contacts import selectors
from contacts.filters import PeopleFilter
from contacts.models import Contact
from contacts.pagination import Page, Sort, decode_cursor

PAGE_SIZE = 50

SORTABLE_COLUMNS = ("name", "company", "created", "updated")


@dataclass(frozen=True)
class SortLink:
    url: str
    active: bool
    descending: bool


@dataclass(frozen=True)
class PeopleListing:
    filterset: PeopleFilter
    sort: Sort
    page: Page
    total: int
    total_is_capped: bool
    filter_query: str
    sort_links: dict[str, SortLink]
    next_url: str | None
    previous_url: str | None

    @property
    def total_label(self) -> str:
        count = number_format(self.total, force_grouping=True)
        return _("%(count)s+") % {"count": count} if self.total_is_capped else count


def filter_query(params: QueryDict) -> str:
    """Return the querystring of the filters alone: no sort, no cursor."""
    names = set(PeopleFilter.base_filters)
    names |= {f"{name}_after" for name in ("consent_date", "created")}
    names |= {f"{name}_before" for name in ("consent_date", "created")}
    kept = [
        (key, value)
        for key in params
        if key in names
        for value in params.getlist(key)
        if value
    ]
    return urlencode(kept)


def _url(filters: str, **extra: str) -> str:
    parts = [part for part in (filters, urlencode(extra)) if part]
    return "?" + "&".join(parts)


def people_listing(params: QueryDict) -> PeopleListing:
    """Return the People list for a querystring, tolerating any bad value."""
    filterset = PeopleFilter(params, queryset=Contact.objects.all())
    sort = selectors.sort_named(params.get("sort"))
    cursor = decode_cursor(params.get("cursor"), sort, Contact)
    # An invalid filter value is shown as a field error and left out.
    contacts = filterset.qs

    total, capped = selectors.capped_count(contacts)
    searching = bool(filterset.form.cleaned_data.get("q"))
    page = selectors.people_page(
        contacts,
        sort=sort,
        cursor=cursor,
        size=PAGE_SIZE,
        read_matches_first=searching or not capped,
    )

    filters = filter_query(params)
    sort_links = {}
    for column in SORTABLE_COLUMNS:
        active = sort.key.lstrip("-") == column
        toggled = f"-{column}" if sort.key == column else column
        sort_links[column] = SortLink(
            url=_url(filters, sort=toggled), active=active, descending=sort.descending
        )
    return PeopleListing(
        filterset=filterset,
        sort=sort,
        page=page,
        total=total,
        total_is_capped=capped,
        filter_query=filters,
        sort_links=sort_links,
        next_url=(
            _url(filters, sort=sort.key, cursor=page.next_cursor)
            if page.next_cursor
            else None
        ),
        previous_url=(
            _url(filters, sort=sort.key, cursor=page.previous_cursor)
            if page.previous_cursor
            else None
        ),
    )
