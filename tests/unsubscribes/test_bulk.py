"""Unsubscribe from the People list's "⋮" menu, set-based."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact
from tests.factories import ContactFactory, contacts_in_bulk
from unsubscribes.choices import Action, Channel
from unsubscribes.models import SubscriptionChange
from unsubscribes.services import contact_unsubscribe

pytestmark = pytest.mark.django_db

UNSUBSCRIBE = reverse("unsubscribes:bulk_unsubscribe")


def _select(contacts) -> dict:
    return {"scope": "ids", "ids": [c.pk for c in contacts]}


def test_the_menu_offers_unsubscribe_to_sales_reps(rep_client):
    ContactFactory()

    html = rep_client.get(reverse("contacts:people")).content.decode()

    assert 'data-bulk-action="unsubscribe"' in html
    assert UNSUBSCRIBE in html


def test_the_confirmation_names_the_count(rep_client):
    contacts = contacts_in_bulk(1204)

    response = rep_client.post(UNSUBSCRIBE, _select(contacts[:3]))

    assert "Unsubscribe 3 contacts? No email will be sent to them." in (
        response.content.decode()
    )
    assert not SubscriptionChange.objects.exists()


def test_confirming_unsubscribes_with_bulk_history_and_none_for_the_already_done(
    rep_client, sales_rep
):
    already, *others = ContactFactory.create_batch(3)
    contact_unsubscribe(contact_id=already.pk, channel=Channel.USER, actor_name="x")

    response = rep_client.post(
        UNSUBSCRIBE, {**_select([already, *others]), "step": "apply"}, follow=True
    )

    assert "2 contacts unsubscribed." in response.content.decode()
    bulk_rows = SubscriptionChange.objects.filter(channel=Channel.BULK)
    assert sorted(bulk_rows.values_list("contact_id", flat=True)) == sorted(
        c.pk for c in others
    )
    assert {(r.action, r.actor) for r in bulk_rows} == {(Action.UNSUBSCRIBE, sales_rep)}
    assert SubscriptionChange.objects.filter(contact=already).count() == 1
    for contact in others:
        contact.refresh_from_db()
        assert contact.is_unsubscribed is True


def test_all_matching_unsubscribes_only_the_matches(rep_client):
    matching = contacts_in_bulk(3, company="Acme Matching")
    other = ContactFactory(company="Elsewhere")

    rep_client.post(
        UNSUBSCRIBE, {"scope": "all", "filter": "q=Acme Matching", "step": "apply"}
    )

    assert Contact.objects.filter(is_unsubscribed=True).count() == len(matching)
    other.refresh_from_db()
    assert other.is_unsubscribed is False


def test_a_bulk_unsubscribe_costs_the_same_queries_at_any_size(postgres, rep_client):
    # PostgreSQL only: SQLite caps a statement at 999 parameters, so Django
    # splits the history INSERT there as the batch grows.
    counts = []
    for size in (30, 300):
        company = f"Size {size}"
        contacts_in_bulk(size, company=company)
        data = {"scope": "all", "filter": f"q={company}", "step": "apply"}
        with CaptureQueriesContext(connection) as queries:
            rep_client.post(UNSUBSCRIBE, data)
        assert Contact.objects.filter(
            company=company, is_unsubscribed=True
        ).count() == (size)
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_people_without_the_permission_cannot_unsubscribe_in_bulk(outsider_client):
    contact = ContactFactory()

    response = outsider_client.post(
        UNSUBSCRIBE, {**_select([contact]), "step": "apply"}
    )

    assert response.status_code == 403
    assert not SubscriptionChange.objects.exists()
