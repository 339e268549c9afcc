"""The export history: append-only, and emptied of a person on erasure."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.roles import ADMIN, SALES_REP, permission_codes
from contacts.erasure import ErasureChannel, contacts_erase
from contacts.models import Contact
from exports import services
from exports.models import ExportKind, ExportRecord
from tests.exports.factories import empty_contact

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.UTC)


def _record(actor, contact=None):
    return services.export_record_create(
        kind=ExportKind.SINGLE,
        actor=actor,
        contact=contact,
        row_count=1,
        exported_at=WHEN,
    )


def test_admins_hold_both_export_permissions_and_sales_reps_only_single():
    admin, rep = permission_codes(ADMIN), permission_codes(SALES_REP)
    bulk, bundle = "exports.export_contacts_bulk", "exports.export_access_bundle"

    assert {"exports.export_contact", bulk, bundle} <= admin
    assert "exports.export_contact" in rep
    assert bulk not in rep
    assert bundle not in rep


def test_nobody_can_be_granted_the_right_to_change_or_delete_the_history():
    assert "exports.change_exportrecord" not in permission_codes(ADMIN)
    assert "exports.delete_exportrecord" not in permission_codes(ADMIN)


def test_erasing_a_contact_unlinks_its_export_records(sales_rep):
    erased, kept = empty_contact(), empty_contact(email="kept@example.com")
    _record(sales_rep, erased)
    _record(sales_rep, kept)

    contacts_erase(
        contact_ids=[erased.pk], channel=ErasureChannel.PERSON, actor=sales_rep
    )

    assert ExportRecord.objects.filter(contact=None).count() == 1
    assert ExportRecord.objects.filter(contact=kept).count() == 1
    assert not Contact.objects.filter(pk=erased.pk).exists()


@pytest.mark.services
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE exports_exportrecord SET row_count = 99",
        "UPDATE exports_exportrecord SET actor_name = 'someone'",
        "UPDATE exports_exportrecord SET contact_id = NULL, row_count = 0",
        "DELETE FROM exports_exportrecord",
    ],
)
def test_postgresql_refuses_to_change_or_delete_a_record(
    postgres, sales_rep, statement
):
    _record(sales_rep, empty_contact())

    with pytest.raises(DatabaseError), transaction.atomic():
        connection.cursor().execute(statement)

    assert ExportRecord.objects.get().row_count == 1


@pytest.mark.services
def test_postgresql_allows_only_the_erasure_unlink(postgres, sales_rep):
    contact = empty_contact()
    _record(sales_rep, contact)

    services.export_records_unlink(contact_ids=[contact.pk])

    assert ExportRecord.objects.get().contact is None
