"""Concurrent compliance writes on PostgreSQL: neither change is lost."""

import threading

import pytest
from django.db import connection, connections, transaction

from compliance.models import ComplianceChange
from compliance.services import (
    StaleEdit,
    compliance_bulk_update,
    compliance_update,
)
from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until_a_backend_waits_for_a_lock(attempts: int = 500) -> None:
    """Poll PostgreSQL until another session is blocked on a row lock."""
    for _ in range(attempts):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        threading.Event().wait(0.02)
    raise AssertionError("the bulk update never waited for the card's row lock")


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_bulk_update_racing_a_card_edit_keeps_both(postgres, sales_rep):
    contact = ContactFactory()
    card_holds_lock = threading.Event()
    release_card = threading.Event()

    def card_edit():
        with transaction.atomic():
            compliance_update(
                contact_id=contact.pk,
                changes={"source_type": "import"},
                channel="card",
                actor=sales_rep,
            )
            card_holds_lock.set()
            release_card.wait(timeout=30)

    def bulk_update():
        compliance_bulk_update(
            contacts=Contact.objects.filter(pk=contact.pk),
            changes={"permission_type": "legitimate_interest"},
            channel="bulk",
            actor=sales_rep,
        )

    card = in_thread(card_edit)
    assert card_holds_lock.wait(timeout=30)
    bulk = in_thread(bulk_update)
    wait_until_a_backend_waits_for_a_lock()
    release_card.set()
    card.join(timeout=30)
    bulk.join(timeout=30)

    contact.refresh_from_db()
    assert (contact.source_type, contact.permission_type) == (
        "import",
        "legitimate_interest",
    )
    assert contact.compliance_version == 2
    assert list(
        ComplianceChange.objects.order_by("id").values_list(
            "channel", "field", "old_value", "new_value"
        )
    ) == [
        ("card", "source_type", "not_set", "import"),
        ("bulk", "permission_type", "not_set", "legitimate_interest"),
    ]


def test_a_card_edit_after_a_bulk_update_is_refused_as_stale(postgres, sales_rep):
    contact = ContactFactory()
    version_on_screen = contact.compliance_version

    compliance_bulk_update(
        contacts=Contact.objects.all(),
        changes={"permission_type": "contract"},
        channel="bulk",
        actor=sales_rep,
    )

    with pytest.raises(StaleEdit):
        compliance_update(
            contact_id=contact.pk,
            changes={"permission_type": "legitimate_interest"},
            channel="card",
            actor=sales_rep,
            expected_version=version_on_screen,
        )
    contact.refresh_from_db()
    assert contact.permission_type == "contract"
