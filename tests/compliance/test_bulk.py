"""The Permission and Source bulk actions of the People list."""

import threading
import time

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import ComplianceChange
from compliance.services import compliance_update
from contacts import bulk
from contacts.choices import PermissionType, SourceType
from contacts.models import BulkJob, Contact
from contacts.selection import Selection
from tests.factories import ContactFactory, contacts_in_bulk

pytestmark = pytest.mark.django_db

PERMISSION = reverse("compliance_bulk:permission")
SOURCE = reverse("compliance_bulk:source")
TODAY = timezone.localdate().isoformat()
PURPOSE = "Quarterly newsletter about data-protection tooling."


def select(contacts) -> dict:
    return {"scope": "ids", "ids": [c.pk for c in contacts]}


def history(contact) -> list[tuple[str, str, str]]:
    return list(
        ComplianceChange.objects.filter(contact=contact)
        .order_by("id")
        .values_list("channel", "field", "new_value")
    )


def test_the_menu_lists_permission_and_source_before_delete(rep_client):
    ContactFactory()

    html = rep_client.get(reverse("contacts:people")).content.decode()

    assert (
        html.index('data-bulk-action="permission"')
        < html.index('data-bulk-action="source"')
        < html.index('data-bulk-action="delete"')
    )


def test_the_permission_modal_offers_the_card_options(rep_client):
    contact = ContactFactory()

    html = rep_client.get(
        f"{PERMISSION}?scope=ids&ids={contact.pk}", headers={"HX-Request": "true"}
    ).content.decode()

    assert html.lstrip().startswith("<dialog")
    for label in (
        "Permission type",
        "Legitimate interest",
        "Public interest / official authority",
        "Consent date",
        "Processing purpose",
        "Permission type description",
    ):
        assert label in html
    assert 'data-show-when="permission_type:consent"' in html


def test_consent_needs_a_date_and_a_purpose(rep_client):
    contact = ContactFactory()

    response = rep_client.post(
        PERMISSION, {**select([contact]), "permission_type": "consent"}
    )

    html = response.content.decode()
    assert html.count("This field is required.") == 2
    assert "Set Permission type" not in html
    assert Contact.objects.get().permission_type == PermissionType.NOT_SET


def test_other_needs_a_description_and_bad_values_are_field_errors(rep_client):
    contact = ContactFactory()

    other = rep_client.post(
        PERMISSION, {**select([contact]), "permission_type": "other"}
    )
    unknown = rep_client.post(PERMISSION, {**select([contact]), "permission_type": "x"})
    future = rep_client.post(
        PERMISSION,
        {
            **select([contact]),
            "permission_type": "consent",
            "consent_date": "2999-01-01",
            "processing_purpose": PURPOSE,
        },
        follow=True,
    )
    source = rep_client.post(SOURCE, {**select([contact]), "source_type": "other"})

    assert "This field is required." in other.content.decode()
    assert "Select a valid choice." in unknown.content.decode()
    assert "cannot be in the future" in future.content.decode()
    assert "This field is required." in source.content.decode()
    assert not ComplianceChange.objects.exists()


def test_the_confirmation_names_the_change_and_the_count(rep_client):
    contacts = contacts_in_bulk(1204)
    data = {
        "scope": "all",
        "filter": "",
        "permission_type": "consent",
        "consent_date": TODAY,
        "processing_purpose": PURPOSE,
    }

    response = rep_client.post(PERMISSION, data)

    assert (
        "Set Permission type to Consent for 1,204 contacts?"
        in response.content.decode()
    )
    assert not Contact.objects.filter(permission_type="consent").exists()
    assert len(contacts) == 1204


def test_confirming_sets_the_values_with_bulk_history_and_none_for_unchanged(
    rep_client,
):
    already = ContactFactory(permission_type=PermissionType.LEGITIMATE_INTEREST)
    others = ContactFactory.create_batch(2)

    response = rep_client.post(
        PERMISSION,
        {
            **select([already, *others]),
            "permission_type": "legitimate_interest",
            "step": "apply",
        },
        follow=True,
    )

    assert "Permission updated for 2 contacts." in response.content.decode()
    assert set(Contact.objects.values_list("permission_type", flat=True)) == {
        "legitimate_interest"
    }
    assert history(already) == []
    for contact in others:
        assert history(contact) == [("bulk", "permission_type", "legitimate_interest")]


def test_source_by_all_matching_changes_only_the_matches(rep_client):
    matching = contacts_in_bulk(3, permission_type=PermissionType.CONSENT)
    other = ContactFactory()

    rep_client.post(
        SOURCE,
        {
            "scope": "all",
            "filter": "has_consent=yes",
            "source_type": "other",
            "source_type_description": "Met at the Lisbon trade fair.",
            "step": "apply",
        },
    )

    for contact in matching:
        contact.refresh_from_db()
        assert contact.source_type == SourceType.OTHER
        assert contact.source_type_description == "Met at the Lisbon trade fair."
    other.refresh_from_db()
    assert other.source_type == SourceType.NOT_SET


def test_switching_away_from_consent_in_bulk_clears_its_fields(rep_client):
    contact = ContactFactory(
        permission_type=PermissionType.CONSENT,
        consent_date=timezone.localdate(),
        processing_purpose=PURPOSE,
    )

    rep_client.post(
        PERMISSION,
        {**select([contact]), "permission_type": "contract", "step": "apply"},
    )

    contact.refresh_from_db()
    assert (contact.permission_type, contact.consent_date) == ("contract", None)
    assert contact.processing_purpose == ""


def test_a_bulk_permission_update_costs_the_same_queries_at_any_size(rep_client):
    counts = []
    for size, source in ((30, SourceType.IMPORT), (300, SourceType.CRM_SYNC)):
        contacts_in_bulk(size, source_type=source)
        data = {
            "scope": "all",
            "filter": f"source_type={source}",
            "permission_type": "legitimate_interest",
            "step": "apply",
        }
        with CaptureQueriesContext(connection) as queries:
            rep_client.post(PERMISSION, data)
        changed = Contact.objects.filter(
            source_type=source, permission_type="legitimate_interest"
        )
        assert changed.count() == size
        counts.append(len(queries))

    assert counts[0] == counts[1]


def _waiting_on_a_lock() -> bool:
    # pg_locks is read live; pg_stat_activity would be a snapshot frozen for
    # the rest of the caller's transaction.
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def _in_thread(target):
    errors = []

    def run():
        try:
            target()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _wait_for_lock_wait(errors):
    for _ in range(200):
        assert errors == []
        if _waiting_on_a_lock():
            return
        time.sleep(0.05)
    raise AssertionError("the second writer never waited for the first")


@pytest.mark.services
def test_a_bulk_update_racing_a_card_edit_loses_neither_change(
    postgres, transactional_db, sales_rep
):
    from django.db import transaction

    contacts = contacts_in_bulk(20)
    edited = contacts[7]
    job = bulk.bulk_job_create(
        kind="permission",
        selection=Selection(ids=tuple(c.pk for c in contacts)),
        change={"permission_type": "legitimate_interest"},
        actor=sales_rep,
    )

    # The card edit holds its row lock while the bulk job starts and waits.
    with transaction.atomic():
        compliance_update(
            contact_id=edited.pk,
            changes={"source_type": "chrome_extension"},
            channel="card",
            actor=sales_rep,
        )
        thread, errors = _in_thread(lambda: bulk.bulk_job_run(job_id=job.pk))
        _wait_for_lock_wait(errors)
    thread.join(timeout=30)

    assert errors == []
    edited.refresh_from_db()
    assert (edited.permission_type, edited.source_type) == (
        "legitimate_interest",
        "chrome_extension",
    )
    assert edited.compliance_version == 2
    assert Contact.objects.filter(permission_type="legitimate_interest").count() == 20
    assert sorted(history(edited)) == [
        ("bulk", "permission_type", "legitimate_interest"),
        ("card", "source_type", "chrome_extension"),
    ]
    assert BulkJob.objects.get().state == "done"


@pytest.mark.services
def test_two_bulk_jobs_on_overlapping_contacts_both_apply(
    postgres, transactional_db, sales_rep
):
    contacts = contacts_in_bulk(30)
    first = bulk.bulk_job_create(
        kind="permission",
        selection=Selection(ids=tuple(c.pk for c in contacts[:20])),
        change={"permission_type": "legitimate_interest"},
        actor=sales_rep,
    )
    second = bulk.bulk_job_create(
        kind="source",
        selection=Selection(ids=tuple(c.pk for c in contacts[10:])),
        change={"source_type": "chrome_extension"},
        actor=sales_rep,
    )

    threads = [
        _in_thread(lambda job=job: bulk.bulk_job_run(job_id=job.pk, batch_size=3))
        for job in (first, second)
    ]
    for thread, _ in threads:
        thread.join(timeout=30)

    assert [errors for _, errors in threads] == [[], []]
    rows = dict(Contact.objects.values_list("pk", "permission_type"))
    sources = dict(Contact.objects.values_list("pk", "source_type"))
    for index, contact in enumerate(contacts):
        assert (rows[contact.pk] == "legitimate_interest") == (index < 20)
        assert (sources[contact.pk] == "chrome_extension") == (index >= 10)
    assert ComplianceChange.objects.filter(channel="bulk").count() == 40
    assert set(BulkJob.objects.values_list("state", flat=True)) == {"done"}
