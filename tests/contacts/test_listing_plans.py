"""How the People list asks PostgreSQL for a page, and that both ways agree."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import selectors
from contacts.models import Contact
from contacts.selectors import SORTS
from tests.factories import ContactFactory

READ_MATCHES_FIRST = "SET LOCAL enable_indexscan = off"


def _statements(client, **params) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("contacts:people"), params)
    assert response.status_code == 200
    return [query["sql"] for query in queries]


def test_a_search_reads_its_matches_before_sorting_them(postgres, rep_client):
    ContactFactory.create_batch(3, last_name="Schmidt")

    assert READ_MATCHES_FIRST in _statements(rep_client, q="Schmidt")


def test_a_broad_list_walks_the_sort_index(postgres, rep_client, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    ContactFactory.create_batch(8)

    assert READ_MATCHES_FIRST not in _statements(rep_client)


def test_a_narrow_filter_reads_its_matches_first(postgres, rep_client, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    ContactFactory.create_batch(8)
    ContactFactory(permission_type="consent", consent_date="2026-01-02")

    statements = _statements(rep_client, permission_type="vital_interests")

    assert READ_MATCHES_FIRST in statements


@pytest.mark.django_db
@pytest.mark.parametrize("sort_key", sorted(SORTS))
def test_both_ways_of_reading_give_the_same_pages(sort_key):
    ContactFactory.create_batch(7, last_name="Schmidt", company="Acme")
    ContactFactory.create_batch(5, last_name="Weber", company="Acme")
    matches = Contact.objects.filter(company="Acme")
    sort = SORTS[sort_key]

    walked = selectors.people_page(matches, sort=sort, cursor=None, size=4)
    read_first = selectors.people_page(
        matches, sort=sort, cursor=None, size=4, read_matches_first=True
    )

    assert [c.pk for c in walked.rows] == [c.pk for c in read_first.rows]
