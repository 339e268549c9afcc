"""The history is append-only in the database itself, on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from compliance.models import ComplianceChange
from compliance.services import compliance_history_redact, compliance_update
from contacts.models import Contact
from tests.factories import ContactFactory


@pytest.fixture
def change(db, sales_rep):
    contact = ContactFactory()
    compliance_update(
        contact_id=contact.pk,
        changes={"source_type": "other", "source_type_description": "Trade fair."},
        channel="card",
        actor=sales_rep,
    )
    return ComplianceChange.objects.get(field="source_type_description")


def refused(statement) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        statement()
    return str(caught.value)


def test_updating_history_is_refused(postgres, change):
    message = refused(
        lambda: ComplianceChange.objects.filter(pk=change.pk).update(new_value="x")
    )

    assert "append-only: UPDATE refused" in message
    change.refresh_from_db()
    assert change.new_value == "Trade fair."


def test_deleting_history_is_refused(postgres, change):
    message = refused(lambda: ComplianceChange.objects.filter(pk=change.pk).delete())

    assert "append-only: DELETE refused" in message
    assert ComplianceChange.objects.filter(pk=change.pk).exists()


def test_raw_sql_is_refused_too(postgres, change):
    def raw_update():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE compliance_compliancechange SET field = 'x'")

    assert "refused" in refused(raw_update)


def test_deleting_is_refused_even_while_redacting(postgres, change):
    def delete_during_redaction():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL salesinsight.history_redaction = 'on'")
            cursor.execute("DELETE FROM compliance_compliancechange")

    assert "DELETE refused" in refused(delete_during_redaction)


def test_redaction_gets_through_and_closes_the_door_behind_it(postgres, change):
    with transaction.atomic():
        compliance_history_redact(contact_ids=[change.contact_id])
        message = refused(
            lambda: ComplianceChange.objects.filter(pk=change.pk).update(field="x")
        )

    change.refresh_from_db()
    assert (change.contact_id, change.new_value) == (None, "[erased]")
    assert "UPDATE refused" in message


@pytest.mark.django_db(transaction=True)
class TestFlushBetweenTransactionalTests:
    """pytest-django empties tables with TRUNCATE, which the trigger lets by."""

    def test_history_is_committed(self, postgres, change):
        assert ComplianceChange.objects.count() == 2

    def test_the_next_test_starts_with_an_empty_history(self, postgres):
        assert not ComplianceChange.objects.exists()
        assert not Contact.objects.exists()
