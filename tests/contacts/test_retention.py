"""Retention review: contacts idle past their type's period are flagged for review."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import ComplianceChange
from contacts.choices import PermissionType
from contacts.models import Contact
from contacts.retention import months_before, needs_review_q
from tests.factories import ContactFactory, contacts_in_bulk

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)


def _contact(permission, *, active=None, created=None):
    contact = ContactFactory(permission_type=permission, last_activity_at=active)
    if created:
        Contact.objects.filter(pk=contact.pk).update(created_at=created)
    return contact


def _flagged() -> set[int]:
    return set(Contact.objects.filter(needs_review_q(NOW)).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime.datetime(2026, 3, 31, tzinfo=datetime.UTC), 1, (2026, 2, 28)),
        (datetime.datetime(2024, 3, 31, tzinfo=datetime.UTC), 1, (2024, 2, 29)),
        (datetime.datetime(2026, 1, 15, tzinfo=datetime.UTC), 24, (2024, 1, 15)),
        (datetime.datetime(2026, 12, 31, tzinfo=datetime.UTC), 12, (2025, 12, 31)),
    ],
)
def test_months_are_calendar_months(moment, months, expected):
    back = months_before(moment, months)

    assert (back.year, back.month, back.day) == expected


def test_a_contact_idle_longer_than_its_types_period_needs_review(settings):
    settings.RETENTION_REVIEW_MONTHS = {"legitimate_interest": 24, "consent": 12}
    stale = _contact("legitimate_interest", active=NOW - datetime.timedelta(days=740))
    fresh = _contact("legitimate_interest", active=NOW - datetime.timedelta(days=700))
    stale_consent = _contact("consent", active=NOW - datetime.timedelta(days=400))
    never_active_old = _contact(
        "legitimate_interest", created=NOW - datetime.timedelta(days=800)
    )
    never_active_new = _contact("legitimate_interest", created=NOW)
    # A type without a period is never flagged, however old.
    _contact("contract", active=NOW - datetime.timedelta(days=4000))

    assert _flagged() == {stale.pk, stale_consent.pk, never_active_old.pk}
    assert fresh.pk not in _flagged()
    assert never_active_new.pk not in _flagged()


def test_the_period_is_read_from_settings_at_query_time(settings):
    contact = _contact("legitimate_interest", active=NOW - datetime.timedelta(days=100))
    settings.RETENTION_REVIEW_MONTHS = {"legitimate_interest": 24}
    assert _flagged() == set()

    settings.RETENTION_REVIEW_MONTHS = {"legitimate_interest": 3}

    assert _flagged() == {contact.pk}


def test_the_people_list_filters_on_needs_review(rep_client, settings):
    settings.RETENTION_REVIEW_MONTHS = {"legitimate_interest": 24}
    old = timezone.now() - datetime.timedelta(days=1000)
    due = ContactFactory(
        permission_type="legitimate_interest", last_activity_at=old, last_name="Due"
    )
    ContactFactory(permission_type="legitimate_interest", last_name="Fresh")

    flagged = rep_client.get(reverse("contacts:people"), {"needs_review": "yes"})
    others = rep_client.get(reverse("contacts:people"), {"needs_review": "no"})

    assert "Needs review" in flagged.content.decode()
    assert [c.pk for c in flagged.context["listing"].page.rows] == [due.pk]
    assert due.pk not in [c.pk for c in others.context["listing"].page.rows]


def test_the_needs_review_filter_costs_the_same_queries_at_two_sizes(
    rep_client, settings
):
    settings.RETENTION_REVIEW_MONTHS = {"legitimate_interest": 24, "consent": 12}
    old = timezone.now() - datetime.timedelta(days=1000)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rep_client.get(reverse("contacts:people"), {"needs_review": "yes"})
        return len(captured)

    contacts_in_bulk(5, permission_type="consent", last_activity_at=old)
    small = queries()
    contacts_in_bulk(120, permission_type="consent", last_activity_at=old)

    assert queries() == small


def test_a_malformed_retention_setting_names_the_variable():
    from tests.salesinsight.test_settings import PRODUCTION_ENV, _manage

    result = _manage(
        "check", **{**PRODUCTION_ENV, "RETENTION_REVIEW_MONTHS": '{"consent": "two"}'}
    )

    assert result.returncode != 0
    assert "RETENTION_REVIEW_MONTHS is malformed" in result.stderr


def test_an_unknown_permission_type_in_the_setting_fails_the_system_check(settings):
    from contacts.retention import check_retention_settings

    settings.RETENTION_REVIEW_MONTHS = {"legitimate_intrest": 24}

    errors = check_retention_settings(None)

    assert [error.id for error in errors] == ["contacts.E001"]


def test_re_confirming_records_who_and_restarts_the_review(
    rep_client, sales_rep, settings
):
    settings.RETENTION_REVIEW_MONTHS = {"legitimate_interest": 24}
    long_ago = timezone.now() - datetime.timedelta(days=1000)
    due = [
        ContactFactory(permission_type="legitimate_interest", last_activity_at=long_ago)
        for _ in range(2)
    ]
    selection = {"scope": "all", "filter": "needs_review=yes"}

    confirm = rep_client.post(reverse("compliance_bulk:reconfirm"), selection)
    assert "Re-confirm 2 contacts?" in confirm.content.decode()
    assert ComplianceChange.objects.count() == 0

    response = rep_client.post(
        reverse("compliance_bulk:reconfirm"),
        {**selection, "step": "apply"},
        follow=True,
    )

    assert "Re-confirmed 2 contacts." in response.content.decode()
    assert not Contact.objects.filter(needs_review_q()).exists()
    rows = ComplianceChange.objects.order_by("contact_id")
    assert [(r.contact_id, r.channel, r.field, r.old_value, r.actor) for r in rows] == [
        (c.pk, "review", "last_activity_at", long_ago.date().isoformat(), sales_rep)
        for c in due
    ]
    assert {r.new_value for r in rows} == {timezone.localdate().isoformat()}
    history = rep_client.get(due[0].get_absolute_url()).content.decode()
    assert "Retention review" in history


def test_re_confirming_is_set_based(sales_rep):
    from compliance.services import compliance_bulk_reconfirm

    def statements(count: int) -> int:
        contacts_in_bulk(count)
        with CaptureQueriesContext(connection) as captured:
            compliance_bulk_reconfirm(contacts=Contact.objects.all(), actor=sales_rep)
        return len(captured)

    assert statements(3) == statements(60)


def test_erasing_from_a_review_is_the_delete_action(rep_client, settings):
    settings.RETENTION_REVIEW_MONTHS = {"not_set": 6}
    ContactFactory(last_activity_at=timezone.now() - datetime.timedelta(days=400))
    kept = ContactFactory()

    rep_client.post(
        reverse("contacts:bulk_delete"),
        {"scope": "all", "filter": "needs_review=yes", "step": "apply"},
    )

    assert list(Contact.objects.values_list("pk", flat=True)) == [kept.pk]


def test_activity_restarts_the_review(rep_client, sales_rep, settings):
    settings.RETENTION_REVIEW_MONTHS = {"consent": 12, "legitimate_interest": 12}
    long_ago = timezone.now() - datetime.timedelta(days=800)
    contact = ContactFactory(
        permission_type=PermissionType.LEGITIMATE_INTEREST, last_activity_at=long_ago
    )

    with time_machine.travel(timezone.now(), tick=False):
        rep_client.post(
            reverse("compliance:card_edit", args=[contact.pk]),
            {
                "permission_type": "consent",
                "consent_date": "2026-01-01",
                "processing_purpose": "Newsletter about our products",
                "source_type": "not_set",
                "compliance_version": contact.compliance_version,
            },
        )
        contact.refresh_from_db()
        assert contact.last_activity_at == timezone.now()
    assert not Contact.objects.filter(needs_review_q()).exists()


def test_a_bulk_relabel_is_not_activity(sales_rep):
    from compliance.services import compliance_bulk_update

    long_ago = timezone.now() - datetime.timedelta(days=800)
    contact = ContactFactory(last_activity_at=long_ago)

    compliance_bulk_update(
        contacts=Contact.objects.all(),
        changes={"permission_type": "legitimate_interest"},
        channel="bulk",
        actor=sales_rep,
    )

    contact.refresh_from_db()
    assert contact.last_activity_at == long_ago


def test_an_import_that_updates_a_contact_counts_as_activity(
    rep_client, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    long_ago = timezone.now() - datetime.timedelta(days=800)
    contact = ContactFactory(email="kept@example.com", last_activity_at=long_ago)
    csv = b"email,title\nkept@example.com,Buyer\nnew@example.com,Chief\n"

    preview = rep_client.post(
        reverse("contacts:people_import"),
        {"file": SimpleUploadedFile("people.csv", csv)},
    )
    rep_client.post(
        reverse("contacts:people_import_confirm"), {"token": preview.context["token"]}
    )

    contact.refresh_from_db()
    assert contact.title == "Buyer"
    assert contact.last_activity_at > long_ago
    # A new contact counts from its creation.
    assert Contact.objects.get(email="new@example.com").last_activity_at is None
