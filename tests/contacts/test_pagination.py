"""Keyset paging: forward and backward, with many equal sort values."""

import datetime

import pytest
from django.core import signing
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts import selectors
from contacts.models import Contact
from contacts.pagination import CURSOR_SALT, decode_cursor, keyset_page

pytestmark = pytest.mark.django_db

# Few distinct values, so most rows share their sort values with others and
# the id alone tells them apart.
NAMES = st.sampled_from(["", "a", "A", "b", "Berg", "berg", "Ørsted", "zeta"])
MOMENTS = st.sampled_from(
    [timezone.make_aware(datetime.datetime(2025, 1, day, 12)) for day in (1, 2, 3)]
)
ROWS = st.lists(st.tuples(NAMES, NAMES, NAMES, MOMENTS), max_size=40)


def walk(queryset, sort, size):
    """Return the ids seen walking forward to the end, then back to the start."""
    forward, pages, cursor = [], [], None
    while True:
        page = keyset_page(queryset, sort, cursor, size)
        pages.append([row.pk for row in page.rows])
        forward += pages[-1]
        if not page.next_cursor:
            break
        cursor = decode_cursor(page.next_cursor, sort, Contact)

    backward_pages = [[row.pk for row in page.rows]]
    while page.previous_cursor:
        cursor = decode_cursor(page.previous_cursor, sort, Contact)
        page = keyset_page(queryset, sort, cursor, size)
        backward_pages.insert(0, [row.pk for row in page.rows])
    return forward, pages, backward_pages


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=ROWS,
    size=st.integers(min_value=1, max_value=7),
    sort_key=st.sampled_from(sorted(selectors.SORTS)),
)
def test_paging_forward_and_back_neither_loses_nor_repeats_a_row(rows, size, sort_key):
    Contact.objects.all().delete()
    created = Contact.objects.bulk_create(
        Contact(last_name=last, first_name=first, company=company, email=f"{i}@x.eu")
        for i, (last, first, company, _) in enumerate(rows)
    )
    for contact, (*_, moment) in zip(created, rows, strict=True):
        Contact.objects.filter(pk=contact.pk).update(
            created_at=moment, updated_at=moment
        )
    sort = selectors.SORTS[sort_key]
    queryset = Contact.objects.all()
    expected = list(
        queryset.order_by(
            *[f"-{f}" if sort.descending else f for f in sort.fields]
        ).values_list("pk", flat=True)
    )

    forward, pages, backward_pages = walk(queryset, sort, size)

    assert forward == expected
    assert backward_pages == pages


def test_stepping_back_from_the_second_page_gives_the_full_first_page():
    Contact.objects.bulk_create(
        Contact(last_name="same", email=f"{i}@x.eu") for i in range(10)
    )
    sort = selectors.DEFAULT_SORT
    first = keyset_page(Contact.objects.all(), sort, None, 4)
    second = keyset_page(
        Contact.objects.all(), sort, decode_cursor(first.next_cursor, sort, Contact), 4
    )

    back = keyset_page(
        Contact.objects.all(),
        sort,
        decode_cursor(second.previous_cursor, sort, Contact),
        4,
    )

    assert [c.pk for c in back.rows] == [c.pk for c in first.rows]
    assert back.previous_cursor is None
    assert back.next_cursor is not None


@pytest.mark.parametrize(
    "payload",
    [
        ["name", "sideways", ["a", "b", 1]],
        ["name", "next", ["a", "b"]],
        ["name", "next", ["a", "b", "1"]],
        ["name", "next", ["a", 2, 1]],
        ["name", "next", "abc"],
        ["created", "next", ["not a date", 1]],
        ["created", "next", ["2025-01-01T00:00:00", 1]],
        ["created", "next", [5, 1]],
        ["name", "next", ["a", "b", True]],
        "not a list",
    ],
)
def test_a_signed_but_malformed_cursor_is_ignored(payload):
    sort_key = payload[0] if isinstance(payload, list) else "name"
    token = signing.dumps(payload, salt=CURSOR_SALT)

    assert decode_cursor(token, selectors.SORTS[sort_key], Contact) is None


def test_a_cursor_with_a_forged_signature_is_ignored():
    token = signing.dumps(["name", "next", ["a", "b", 1]], salt=CURSOR_SALT)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")

    assert decode_cursor(forged, selectors.DEFAULT_SORT, Contact) is None
