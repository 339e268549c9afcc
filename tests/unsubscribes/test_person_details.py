"""The Unsubscribe history panel on Person Details and its Unsubscribe button."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ContactFactory
from tests.unsubscribes.factories import SubscriptionChangeFactory
from unsubscribes.choices import Action, Channel
from unsubscribes.models import SubscriptionChange

pytestmark = pytest.mark.django_db


def _person(client, contact) -> str:
    response = client.get(contact.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_a_sales_rep_sees_the_status_and_the_unsubscribe_button(rep_client):
    contact = ContactFactory()

    html = _person(rep_client, contact)

    assert "Unsubscribe history" in html
    assert "Subscribed" in html
    assert reverse("unsubscribes:person_unsubscribe", args=[contact.pk]) in html


def test_a_sales_rep_unsubscribes_a_person_from_person_details(rep_client, sales_rep):
    contact = ContactFactory()

    response = rep_client.post(
        reverse("unsubscribes:person_unsubscribe", args=[contact.pk]), follow=True
    )

    html = response.content.decode()
    change = SubscriptionChange.objects.get(contact=contact)
    assert (change.channel, change.actor) == (Channel.USER, sales_rep)
    assert "Unsubscribed. No email will be sent to them." in html
    assert "By a user" in html
    assert reverse("unsubscribes:person_unsubscribe", args=[contact.pk]) not in html


def test_unsubscribing_an_unsubscribed_person_changes_nothing(rep_client):
    contact = ContactFactory()
    url = reverse("unsubscribes:person_unsubscribe", args=[contact.pk])
    rep_client.post(url)

    response = rep_client.post(url, follow=True)

    assert "Already unsubscribed. Nothing changed." in response.content.decode()
    assert SubscriptionChange.objects.filter(contact=contact).count() == 1


def test_the_history_lists_the_newest_change_first(rep_client):
    contact = ContactFactory()
    now = timezone.now()
    SubscriptionChangeFactory(
        contact=contact, changed_at=now - timedelta(days=2), channel=Channel.BULK
    )
    SubscriptionChangeFactory(
        contact=contact,
        changed_at=now - timedelta(days=1),
        action=Action.RESUBSCRIBE,
        channel=Channel.ADMIN_RESUBSCRIBE,
        processing_purpose="Quarterly product newsletter",
    )
    SubscriptionChangeFactory(
        contact=contact, changed_at=now, channel=Channel.ONE_CLICK
    )

    html = _person(rep_client, contact)

    positions = [
        html.index(label) for label in ("One-click", "Admin resubscribe", "Bulk action")
    ]
    assert positions == sorted(positions)
    assert "Quarterly product newsletter" in html


def test_people_without_the_permission_cannot_unsubscribe(outsider_client):
    contact = ContactFactory()

    response = outsider_client.post(
        reverse("unsubscribes:person_unsubscribe", args=[contact.pk])
    )

    assert response.status_code == 403
    assert not SubscriptionChange.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client):
    contact = ContactFactory()

    response = client.post(
        reverse("unsubscribes:person_unsubscribe", args=[contact.pk])
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not SubscriptionChange.objects.exists()


def test_unsubscribing_takes_a_post(rep_client):
    contact = ContactFactory()

    response = rep_client.get(
        reverse("unsubscribes:person_unsubscribe", args=[contact.pk])
    )

    assert response.status_code == 405
    assert not SubscriptionChange.objects.exists()


def test_unsubscribing_an_unknown_person_is_a_404(rep_client):
    response = rep_client.post(reverse("unsubscribes:person_unsubscribe", args=[999]))

    assert response.status_code == 404
