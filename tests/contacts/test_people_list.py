"""The People list: columns, filters, sorts, totals and bad input."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import selectors
from contacts.choices import PermissionType, SourceType
from contacts.models import Contact
from tests.factories import ContactFactory, contacts_in_bulk

pytestmark = pytest.mark.django_db

PEOPLE = reverse("contacts:people")


def shown_ids(response) -> list[int]:
    return [contact.pk for contact in response.context["listing"].page.rows]


def all_pages(client, query: str = "") -> list[int]:
    """Follow the Next links from the first page; return every id in order."""
    ids, url = [], f"{PEOPLE}?{query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        ids += shown_ids(response)
        next_url = response.context["listing"].next_url
        url = f"{PEOPLE}{next_url}" if next_url else None
    return ids


def test_the_list_shows_each_column_and_links_to_person_details(rep_client):
    contact = ContactFactory(
        first_name="Ingrid",
        last_name="Berg",
        company="Baltic Freight AB",
        title="Sales Lead",
        email="ingrid@baltic.example",
        permission_type=PermissionType.LEGITIMATE_INTEREST,
        source_type=SourceType.CRM_SYNC,
        is_unsubscribed=True,
    )

    html = rep_client.get(PEOPLE).content.decode()

    assert f'href="{contact.get_absolute_url()}"' in html
    for text in (
        "Ingrid Berg",
        "Baltic Freight AB",
        "Sales Lead",
        "ingrid@baltic.example",
        "Legitimate interest",
        "CRM sync",
        "Unsubscribed",
    ):
        assert text in html
    for header in ("Name", "Company", "Title", "Email", "Permission type"):
        assert f">{header}<" in html
    assert "Source type" in html
    assert ">Updated<" in html


def test_the_search_matches_every_word_in_names_email_or_company(rep_client):
    anna = ContactFactory(first_name="Anna", last_name="Müller", company="Nordlicht")
    by_email = ContactFactory(first_name="X", last_name="Y", email="anna@z.example")
    ContactFactory(first_name="Hugo", last_name="Müller", company="Atelier")
    by_company = ContactFactory(first_name="B", last_name="C", company="Annabel Ltd")

    assert set(all_pages(rep_client, "q=anna")) == {anna.pk, by_email.pk, by_company.pk}
    assert all_pages(rep_client, "q=ANNA+müller") == [anna.pk]
    assert all_pages(rep_client, "q=nordlicht+anna") == [anna.pk]


def test_the_choice_filters_narrow_the_list(rep_client):
    consent = ContactFactory(
        permission_type=PermissionType.CONSENT,
        consent_date=datetime.date(2025, 3, 1),
        source_type=SourceType.IMPORT,
    )
    interest = ContactFactory(
        permission_type=PermissionType.LEGITIMATE_INTEREST,
        source_type=SourceType.IMPORT,
    )
    manual = ContactFactory(source_type=SourceType.MANUAL_UPLOAD)

    assert all_pages(rep_client, "permission_type=consent") == [consent.pk]
    assert set(all_pages(rep_client, "source_type=import")) == {consent.pk, interest.pk}
    assert all_pages(rep_client, "has_consent=yes") == [consent.pk]
    assert set(all_pages(rep_client, "has_consent=no")) == {interest.pk, manual.pk}
    assert all_pages(
        rep_client, "source_type=import&permission_type=legitimate_interest"
    ) == [interest.pk]


def test_the_date_ranges_include_both_ends(rep_client):
    early = ContactFactory(
        permission_type=PermissionType.CONSENT, consent_date=datetime.date(2025, 1, 1)
    )
    late = ContactFactory(
        permission_type=PermissionType.CONSENT, consent_date=datetime.date(2025, 6, 30)
    )
    Contact.objects.filter(pk=early.pk).update(
        created_at=timezone.make_aware(datetime.datetime(2024, 5, 1, 23, 59))
    )
    Contact.objects.filter(pk=late.pk).update(
        created_at=timezone.make_aware(datetime.datetime(2024, 5, 2, 0, 1))
    )

    assert all_pages(rep_client, "consent_date_after=2025-06-30") == [late.pk]
    assert all_pages(
        rep_client, "consent_date_after=2025-01-01&consent_date_before=2025-01-01"
    ) == [early.pk]
    assert all_pages(rep_client, "created_before=2024-05-01") == [early.pk]
    assert all_pages(rep_client, "created_after=2024-05-02") == [late.pk]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("name", lambda c: (c.last_name, c.first_name, c.pk)),
        ("company", lambda c: (c.company, c.pk)),
        ("created", lambda c: (c.created_at, c.pk)),
        ("updated", lambda c: (c.updated_at, c.pk)),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
def test_each_sort_combined_with_a_filter_walks_every_match_in_order(
    rep_client, monkeypatch, sort, key, descending
):
    monkeypatch.setattr("contacts.listing.PAGE_SIZE", 7)
    names = ["Berg", "berg", "Costa", "Álvarez", "Zeta"]
    companies = ["Acme", "Beta", "Acme", "Gamma"]
    for index in range(40):
        ContactFactory(
            last_name=names[index % len(names)],
            first_name=names[index % 3],
            company=companies[index % len(companies)],
            source_type=SourceType.IMPORT if index % 3 else SourceType.CRM_SYNC,
        )
    # Equal timestamps, so the id alone breaks ties between many rows.
    Contact.objects.filter(pk__lt=Contact.objects.order_by("pk")[20].pk).update(
        created_at=timezone.now(), updated_at=timezone.now()
    )
    key_name = f"-{sort}" if descending else sort
    # The database's collation decides the order of names; ask it, then
    # compare the pages with the order Python derives from the same keys.
    expected_rows = sorted(
        Contact.objects.filter(source_type=SourceType.IMPORT),
        key=key,
        reverse=descending,
    )
    collated = list(
        selectors.contact_list()
        .filter(source_type=SourceType.IMPORT)
        .order_by(
            *[f"-{f}" if descending else f for f in selectors.SORTS[key_name].fields]
        )
        .values_list("pk", flat=True)
    )

    walked = all_pages(rep_client, f"source_type=import&sort={key_name}")

    assert walked == collated
    assert sorted(walked) == sorted(c.pk for c in expected_rows)
    if sort in ("created", "updated"):
        assert walked == [c.pk for c in expected_rows]


def test_the_total_is_exact_when_small_and_capped_when_large(rep_client, monkeypatch):
    contacts_in_bulk(12)

    response = rep_client.get(PEOPLE)
    assert response.context["listing"].total_label == "12"

    monkeypatch.setattr(selectors, "COUNT_CAP", 10)
    response = rep_client.get(PEOPLE)
    assert response.context["listing"].total_label == "10+"
    assert "10+ people" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=",
        "sort=nonsense",
        "sort=name&cursor=WyJ4Il0:1abc:def",
        "permission_type=nope",
        "source_type=%00",
        "has_consent=maybe",
        "consent_date_after=2025-13-45",
        "created_before=yesterday",
        "q=" + "x" * 5000,
        "q=%25_%5C",
        "ids=1&ids=abc",
    ],
)
def test_bad_cursors_and_filter_values_never_fail(rep_client, query):
    ContactFactory()

    response = rep_client.get(f"{PEOPLE}?{query}")

    assert response.status_code == 200


def test_a_bad_filter_value_is_shown_as_a_field_error(rep_client):
    response = rep_client.get(f"{PEOPLE}?consent_date_after=2025-13-45")

    assert "Enter a valid date." in response.content.decode()


def test_a_cursor_from_another_sort_starts_again_at_the_first_page(
    rep_client, monkeypatch
):
    monkeypatch.setattr("contacts.listing.PAGE_SIZE", 2)
    contacts_in_bulk(5)
    next_url = rep_client.get(f"{PEOPLE}?sort=company").context["listing"].next_url
    cursor = next_url.split("cursor=")[1]

    first_by_name = shown_ids(rep_client.get(f"{PEOPLE}?sort=name"))
    response = rep_client.get(f"{PEOPLE}?sort=name&cursor={cursor}")

    assert shown_ids(response) == first_by_name


def test_the_filter_state_lives_in_the_links(rep_client, monkeypatch):
    monkeypatch.setattr("contacts.listing.PAGE_SIZE", 1)
    contacts_in_bulk(3, source_type=SourceType.IMPORT)

    listing = rep_client.get(f"{PEOPLE}?source_type=import&q=a&sort=-company").context[
        "listing"
    ]

    assert "source_type=import" in listing.next_url
    assert "q=a" in listing.next_url
    assert "sort=-company" in listing.next_url
    assert listing.sort_links["company"].url.endswith("sort=company")
    assert "source_type=import" in listing.sort_links["name"].url


def test_a_page_costs_the_same_queries_at_any_size(rep_client, monkeypatch):
    monkeypatch.setattr("contacts.listing.PAGE_SIZE", 10)
    counts = []
    for size in (30, 300):
        Contact.objects.all().delete()
        contacts_in_bulk(size)
        url = f"{PEOPLE}?q=e&source_type=not_set&sort=-updated"
        next_url = rep_client.get(url).context["listing"].next_url
        with CaptureQueriesContext(connection) as queries:
            assert rep_client.get(f"{PEOPLE}{next_url}").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
    # Session, user, permissions (2), the page, the capped total, the jobs;
    # a search also opens a transaction to set how PostgreSQL reads its
    # matches (BEGIN, SET LOCAL, COMMIT).
    assert counts[0] <= 10


def test_anonymous_users_are_sent_to_login(client):
    assert client.get(PEOPLE).status_code == 302


def test_users_without_a_role_are_refused(outsider_client):
    assert outsider_client.get(PEOPLE).status_code == 403
