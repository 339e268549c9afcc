"""The Admin-only "Salesforce sync" page, "Sync now" and the Person Details card."""

import time

import pytest
from django.urls import reverse

from salesforce_sync.models import RunStatus, RunTrigger, SyncRun
from salesforce_sync.services import sync_run
from tests.factories import ContactFactory
from tests.salesforce_sync.factories import linked_contacts, unsubscribe

PAGE = reverse("salesforce_sync:page")
SYNC_NOW = reverse("salesforce_sync:sync_now")


@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["rep_client", "outsider_client"])
def test_only_admins_see_the_page_and_start_a_sync(request, client_fixture):
    client = request.getfixturevalue(client_fixture)

    assert client.get(PAGE).status_code == 403
    assert client.post(SYNC_NOW).status_code == 403
    assert not SyncRun.objects.exists()


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.django_db
def test_without_credentials_the_page_says_the_sync_is_off(admin_client, settings):
    settings.SALESFORCE_USERNAME = ""
    settings.SALESFORCE_CLIENT_ID = ""

    html = admin_client.get(PAGE).content.decode()

    assert "Salesforce sync is off: no Salesforce credentials are set." in html
    assert "Sync now" not in html


@pytest.mark.django_db
def test_admins_see_connection_runs_pending_and_failures(admin_client, salesforce):
    ok, deleted = linked_contacts(salesforce, 2)
    salesforce.store.delete(deleted.salesforce_id)
    unsubscribe([ok, deleted])
    sync_run(trigger=RunTrigger.RELAY)
    waiting = linked_contacts(salesforce, 1)
    unsubscribe(waiting)

    response = admin_client.get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Sync now" in html
    assert "Connected" in html
    assert '<dd class="pending-count">1</dd>' in html
    assert "ENTITY_IS_DELETED: entity is deleted" in html
    assert deleted.get_absolute_url() in html
    assert "Outbox relay" in html
    # The navigation links the page for Admins.
    assert f'href="{PAGE}"' in html


@pytest.mark.django_db
def test_sales_reps_see_no_link_to_the_page(rep_client):
    html = rep_client.get(reverse("contacts:people")).content.decode()

    assert f'href="{PAGE}"' not in html


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_sync_now_runs_a_sync_on_the_worker(admin_client, salesforce, celery_worker):
    response = admin_client.post(SYNC_NOW, follow=True)

    assert "Sync started." in response.content.decode()
    deadline = time.monotonic() + 30
    while not SyncRun.objects.filter(finished_at__isnull=False).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    run = SyncRun.objects.get()
    assert (run.trigger, run.status) == (RunTrigger.MANUAL, RunStatus.SUCCEEDED)


@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["rep_client", "admin_client"])
def test_person_details_shows_the_sync_state(request, client_fixture, salesforce):
    client = request.getfixturevalue(client_fixture)
    (contact,) = linked_contacts(salesforce, 1)
    salesforce.store.delete(contact.salesforce_id)
    unsubscribe([contact])
    sync_run(trigger=RunTrigger.RELAY)

    html = client.get(contact.get_absolute_url()).content.decode()

    assert "Salesforce sync" in html
    assert contact.salesforce_id in html
    assert "Not sent: Salesforce refused (ENTITY_IS_DELETED)." in html


@pytest.mark.django_db
def test_person_details_says_when_nothing_is_owed(rep_client, salesforce):
    contact = ContactFactory()

    html = rep_client.get(contact.get_absolute_url()).content.decode()

    assert "Nothing to send." in html


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_whatever_the_failures(
    admin_client, salesforce
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_with_failures(count: int) -> int:
        contacts = linked_contacts(salesforce, count)
        for contact in contacts:
            salesforce.store.delete(contact.salesforce_id)
        unsubscribe(contacts)
        sync_run(trigger=RunTrigger.RELAY)
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(PAGE).status_code == 200
        return len(queries)

    assert queries_with_failures(2) == queries_with_failures(20)


@pytest.mark.django_db
def test_a_refused_opt_out_of_an_erased_person_shows_no_one(admin_client, salesforce):
    from contacts.erasure import ErasureChannel, contacts_erase

    (contact,) = linked_contacts(salesforce, 1)
    salesforce.store.delete(contact.salesforce_id)
    contacts_erase(
        contact_ids=[contact.pk], channel=ErasureChannel.PERSON, actor_name="Ada"
    )
    sync_run(trigger=RunTrigger.RELAY)

    html = admin_client.get(PAGE).content.decode()

    assert "An erased person" in html
    assert "Opt-out of an erased person" in html
    assert "ENTITY_IS_DELETED: entity is deleted" in html
    assert contact.salesforce_id not in html
