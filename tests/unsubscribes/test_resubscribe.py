"""Resubscribing: Admins only, with proof of new consent, in one transaction."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from compliance.models import Channel as ComplianceChannel
from compliance.models import ComplianceChange
from contacts.choices import PermissionType
from contacts.models import Contact
from tests.factories import ContactFactory
from unsubscribes.choices import Action, Channel
from unsubscribes.models import SubscriptionChange
from unsubscribes.services import (
    ConsentProof,
    contact_resubscribe,
    contact_unsubscribe,
)
from unsubscribes.storage import private_storage

PURPOSE = "Monthly newsletter about our analytics products"


def _unsubscribed_contact() -> Contact:
    contact = ContactFactory()
    contact_unsubscribe(
        contact_id=contact.pk, channel=Channel.ONE_CLICK, actor_name="x"
    )
    contact.refresh_from_db()
    return contact


def _proof(**overrides) -> dict:
    return {
        "consent_date": timezone.localdate().isoformat(),
        "processing_purpose": PURPOSE,
        "consent_obtained": "Ticked the box on the signed order form",
        "evidence_note": "Order form 2291, filed in the sales binder",
        **overrides,
    }


def _url(contact) -> str:
    return reverse("unsubscribes:resubscribe", args=[contact.pk])


@pytest.mark.django_db
def test_an_admin_resubscribes_with_proof_in_one_go(
    admin_client, admin_user, heard, django_capture_on_commit_callbacks
):
    contact = _unsubscribed_contact()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(_url(contact), _proof(), follow=True)

    contact.refresh_from_db()
    change = SubscriptionChange.objects.get(action=Action.RESUBSCRIBE)
    assert "Resubscribed, with Consent recorded" in response.content.decode()
    assert contact.is_unsubscribed is False
    assert contact.subscription_changed_at == change.changed_at
    assert (contact.permission_type, contact.consent_date) == (
        PermissionType.CONSENT,
        timezone.localdate(),
    )
    assert contact.processing_purpose == PURPOSE
    assert (change.channel, change.actor) == (Channel.ADMIN_RESUBSCRIBE, admin_user)
    assert change.consent_obtained == "Ticked the box on the signed order form"
    assert change.evidence_note == "Order form 2291, filed in the sales binder"
    assert set(
        ComplianceChange.objects.filter(contact=contact).values_list("field", "channel")
    ) >= {
        ("permission_type", ComplianceChannel.RESUBSCRIBE),
        ("consent_date", ComplianceChannel.RESUBSCRIBE),
        ("processing_purpose", ComplianceChannel.RESUBSCRIBE),
    }
    assert heard == [
        {
            "contact_ids": [contact.pk],
            "action": "resubscribe",
            "channel": "admin_resubscribe",
        }
    ]
    assert "Admin resubscribe" in response.content.decode()


@pytest.mark.django_db
def test_an_evidence_file_is_stored_privately_and_downloaded_by_admins_only(
    admin_client, client, sales_rep, private_media
):
    contact = _unsubscribed_contact()
    upload = SimpleUploadedFile(
        "jane-doe-consent.pdf", b"%PDF-1.4 signed", content_type="application/pdf"
    )

    admin_client.post(_url(contact), _proof(evidence_note="", evidence_file=upload))

    change = SubscriptionChange.objects.get(action=Action.RESUBSCRIBE)
    stored = change.evidence_file.name
    assert stored.startswith("evidence/")
    assert "jane" not in stored
    assert (private_media / stored).read_bytes() == b"%PDF-1.4 signed"
    with pytest.raises(ValueError, match="no public URL"):
        private_storage.url(stored)

    download = reverse("unsubscribes:evidence_download", args=[change.pk])
    response = admin_client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 signed"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert download in admin_client.get(contact.get_absolute_url()).content.decode()

    client.force_login(sales_rep)
    assert client.get(download).status_code == 403
    assert download not in client.get(contact.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_resubscribe_without_proof_gets_field_errors(admin_client):
    contact = _unsubscribed_contact()

    response = admin_client.post(_url(contact), {})

    form = response.context["form"]
    assert response.status_code == 200
    assert set(form.errors) == {
        "consent_date",
        "processing_purpose",
        "consent_obtained",
    }
    contact.refresh_from_db()
    assert contact.is_unsubscribed is True
    assert not SubscriptionChange.objects.filter(action=Action.RESUBSCRIBE).exists()


@pytest.mark.django_db
def test_a_resubscribe_needs_an_evidence_note_or_file(admin_client):
    contact = _unsubscribed_contact()

    response = admin_client.post(_url(contact), _proof(evidence_note="  "))

    assert response.context["form"].errors == {
        "evidence_note": ["Give an evidence note or upload an evidence file."]
    }
    assert not SubscriptionChange.objects.filter(action=Action.RESUBSCRIBE).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent_date": "2999-01-01"}, "consent_date"),
        ({"processing_purpose": "ads"}, "processing_purpose"),
        ({"consent_date": "not a date"}, "consent_date"),
    ],
)
def test_a_bad_proof_is_refused_with_a_field_error(admin_client, overrides, field):
    contact = _unsubscribed_contact()

    response = admin_client.post(_url(contact), _proof(**overrides))

    assert list(response.context["form"].errors) == [field]
    contact.refresh_from_db()
    assert contact.is_unsubscribed is True
    assert contact.permission_type == PermissionType.NOT_SET


@pytest.mark.django_db
def test_consent_given_before_the_latest_unsubscribe_is_refused(admin_client):
    contact = _unsubscribed_contact()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    response = admin_client.post(
        _url(contact), _proof(consent_date=yesterday.isoformat())
    )

    errors = response.context["form"].errors
    assert list(errors) == ["consent_date"]
    assert "on or after the latest unsubscribe" in errors["consent_date"][0]
    contact.refresh_from_db()
    assert contact.is_unsubscribed is True
    assert not ComplianceChange.objects.filter(contact=contact).exists()


@pytest.mark.django_db
def test_a_subscribed_person_cannot_be_resubscribed(admin_client):
    contact = ContactFactory()

    response = admin_client.post(_url(contact), _proof())

    assert response.context["form"].non_field_errors() == [
        "This person is not unsubscribed: there is nothing to resubscribe."
    ]
    assert not SubscriptionChange.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_anyone_but_an_admin(sales_rep):
    contact = _unsubscribed_contact()
    proof = ConsentProof(
        consent_date=timezone.localdate(),
        processing_purpose=PURPOSE,
        consent_obtained="Phone call",
        evidence_note="Call log 7",
    )

    with pytest.raises(PermissionDenied):
        contact_resubscribe(contact_id=contact.pk, actor=sales_rep, proof=proof)

    contact.refresh_from_db()
    assert contact.is_unsubscribed is True


# The role matrix: every resubscribe path, for every kind of visitor.
def _page_get(client, contact, **kwargs):
    return client.get(_url(contact), **kwargs)


def _page_post(client, contact, **kwargs):
    return client.post(_url(contact), _proof(), **kwargs)


def _admin_action(client, contact, **kwargs):
    return client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "resubscribe", "_selected_action": [contact.pk]},
        **kwargs,
    )


def _admin_change_page(client, contact, **kwargs):
    return client.get(
        reverse("admin:contacts_contact_change", args=[contact.pk]), **kwargs
    )


RESUBSCRIBE_PATHS = [_page_get, _page_post, _admin_action, _admin_change_page]


@pytest.mark.django_db
@pytest.mark.parametrize("path", RESUBSCRIBE_PATHS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("visitor", ["rep_client", "outsider_client"])
def test_people_who_are_not_admins_get_403_on_every_resubscribe_path(
    request, path, visitor
):
    contact = _unsubscribed_contact()
    client = request.getfixturevalue(visitor)

    # The Django admin sends them to its door first, which refuses them.
    response = path(client, contact, follow=True)

    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.is_unsubscribed is True


@pytest.mark.django_db
@pytest.mark.parametrize("path", RESUBSCRIBE_PATHS, ids=lambda p: p.__name__)
def test_anonymous_visitors_are_sent_to_a_login_on_every_resubscribe_path(client, path):
    contact = _unsubscribed_contact()

    response = path(client, contact)

    assert response.status_code == 302
    assert "login" in response["Location"]
    contact.refresh_from_db()
    assert contact.is_unsubscribed is True


@pytest.mark.django_db
def test_sales_reps_see_no_resubscribe_button_on_person_details(rep_client):
    contact = _unsubscribed_contact()

    html = rep_client.get(contact.get_absolute_url()).content.decode()

    assert _url(contact) not in html


@pytest.mark.django_db
def test_admins_see_the_resubscribe_button_on_person_details(admin_client):
    contact = _unsubscribed_contact()

    html = admin_client.get(contact.get_absolute_url()).content.decode()

    assert _url(contact) in html


@pytest.mark.django_db
def test_the_admin_action_leads_to_the_proof_form(admin_client):
    contact = _unsubscribed_contact()

    response = _admin_action(admin_client, contact)

    assert response.status_code == 302
    assert response["Location"] == _url(contact)
    assert admin_client.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_the_admin_action_takes_one_person_at_a_time(admin_client):
    first, second = _unsubscribed_contact(), _unsubscribed_contact()

    response = admin_client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "resubscribe", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert "Select exactly one contact" in response.content.decode()
    assert not SubscriptionChange.objects.filter(action=Action.RESUBSCRIBE).exists()


@pytest.mark.django_db
def test_the_admin_change_page_has_a_resubscribe_button_and_a_locked_status(
    admin_client,
):
    contact = _unsubscribed_contact()

    response = _admin_change_page(admin_client, contact)

    html = response.content.decode()
    assert _url(contact) in html
    assert 'name="is_unsubscribed"' not in html


@pytest.mark.django_db
def test_the_unsubscribe_history_is_read_only_in_the_admin(admin_client):
    contact = _unsubscribed_contact()
    change = SubscriptionChange.objects.get(contact=contact)

    listing = admin_client.get(
        reverse("admin:unsubscribes_subscriptionchange_changelist")
    )
    delete = admin_client.post(
        reverse("admin:unsubscribes_subscriptionchange_delete", args=[change.pk]),
        {"post": "yes"},
    )

    assert listing.status_code == 200
    assert delete.status_code == 403
    assert SubscriptionChange.objects.filter(pk=change.pk).exists()


def _waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps showing the first snapshot of
        # its activity statistics unless told to take a new one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_until_waiting(count: int) -> None:
    deadline = time.monotonic() + 10
    while _waiting_for_locks() < count:
        assert time.monotonic() < deadline, "the thread never waited for the lock"
        time.sleep(0.02)


def _in_thread(target) -> threading.Thread:
    errors: list[BaseException] = []

    def run():
        try:
            target()
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.errors = errors
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_resubscribe_racing_an_unsubscribe_is_serialised(postgres, admin_user):
    contact = _unsubscribed_contact()
    proof = ConsentProof(
        consent_date=timezone.localdate(),
        processing_purpose=PURPOSE,
        consent_obtained="Phone call",
        evidence_note="Call log 7",
    )

    # Hold the contact's row so both writers queue behind it, resubscribe first.
    with transaction.atomic():
        Contact.objects.select_for_update().get(pk=contact.pk)
        resubscriber = _in_thread(
            lambda: contact_resubscribe(
                contact_id=contact.pk, actor=admin_user, proof=proof
            )
        )
        _wait_until_waiting(1)
        unsubscriber = _in_thread(
            lambda: contact_unsubscribe(
                contact_id=contact.pk, channel=Channel.ONE_CLICK, actor_name="x"
            )
        )
        _wait_until_waiting(2)
    resubscriber.join(10)
    unsubscriber.join(10)

    assert resubscriber.errors == unsubscriber.errors == []
    contact.refresh_from_db()
    history = list(
        SubscriptionChange.objects.filter(contact=contact)
        .order_by("changed_at", "id")
        .values_list("action", flat=True)
    )
    # The later one, the unsubscribe, wins; both are in the history.
    assert history == [Action.UNSUBSCRIBE, Action.RESUBSCRIBE, Action.UNSUBSCRIBE]
    assert contact.is_unsubscribed is True
    assert contact.permission_type == PermissionType.CONSENT
