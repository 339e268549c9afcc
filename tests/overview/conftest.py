"""A seeded contact base for the overview tests, at a fixed moment."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from compliance.models import Channel as ComplianceChannel
from compliance.models import ComplianceChange
from compliance.services import compliance_update
from contacts.choices import PermissionType, SourceType
from tests.factories import ContactFactory
from tests.unsubscribes.factories import SubscriptionChangeFactory
from unsubscribes.choices import Action
from unsubscribes.choices import Channel as SubscriptionChannel

# A Wednesday: its week started on Monday 2026-03-16.
NOW = datetime.datetime(2026, 3, 18, 12, 0, tzinfo=datetime.UTC)
THIS_MONDAY = datetime.date(2026, 3, 16)
# Twenty-five weeks before this Monday: the first of the six months of weeks.
FIRST_MONDAY = datetime.date(2025, 9, 22)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def seeded(db, frozen_now):
    """Create contacts of every kind, and history inside and outside six months."""
    today = THIS_MONDAY + datetime.timedelta(days=2)
    past, future = (
        today - datetime.timedelta(days=1),
        today + datetime.timedelta(days=90),
    )
    purpose = "Quarterly product news by email"

    ContactFactory.create_batch(3)
    complete = ContactFactory.create_batch(
        2,
        permission_type=PermissionType.CONSENT,
        consent_date=datetime.date(2025, 1, 10),
        processing_purpose=purpose,
        source_type=SourceType.IMPORT,
    )
    complete[0].consent_expires_on = future
    complete[1].consent_expires_on = past
    for contact in complete:
        contact.save()
    ContactFactory(
        permission_type=PermissionType.CONSENT,
        processing_purpose=purpose,
        source_type=SourceType.MANUAL_UPLOAD,
    )
    ContactFactory(
        permission_type=PermissionType.CONSENT,
        consent_date=datetime.date(2025, 1, 10),
        consent_expires_on=past,
        source_type=SourceType.CRM_SYNC,
    )
    ContactFactory.create_batch(
        2,
        permission_type=PermissionType.LEGITIMATE_INTEREST,
        source_type=SourceType.CHROME_EXTENSION,
    )
    card_contact = ContactFactory(
        permission_type=PermissionType.CONTRACT,
        source_type=SourceType.OTHER,
        source_type_description="Trade fair badge scan",
    )

    unsubscribes = (
        (THIS_MONDAY, Action.UNSUBSCRIBE, SubscriptionChannel.ONE_CLICK),
        (THIS_MONDAY, Action.UNSUBSCRIBE, SubscriptionChannel.ONE_CLICK),
        (THIS_MONDAY, Action.UNSUBSCRIBE, SubscriptionChannel.UNSUBSCRIBE_LINK),
        (THIS_MONDAY - datetime.timedelta(weeks=3), Action.UNSUBSCRIBE, "user"),
        (
            THIS_MONDAY - datetime.timedelta(weeks=3, days=-2),
            Action.RESUBSCRIBE,
            SubscriptionChannel.ADMIN_RESUBSCRIBE,
        ),
        (FIRST_MONDAY, Action.UNSUBSCRIBE, SubscriptionChannel.BULK),
        # The day before the six months begin: left out.
        (
            FIRST_MONDAY - datetime.timedelta(days=1),
            Action.UNSUBSCRIBE,
            SubscriptionChannel.SALESFORCE_SYNC,
        ),
    )
    for day, action, channel in unsubscribes:
        SubscriptionChangeFactory(
            contact=complete[0],
            changed_at=at(day, hour=0),
            action=action,
            channel=channel,
        )

    # A real card edit two weeks ago: Consent writes three fields, one change.
    with time_machine.travel(at(THIS_MONDAY - datetime.timedelta(weeks=2)), tick=False):
        compliance_update(
            contact_id=card_contact.pk,
            changes={
                "permission_type": PermissionType.CONSENT,
                "consent_date": datetime.date(2026, 2, 27),
                "processing_purpose": purpose,
            },
            channel=ComplianceChannel.CARD,
            actor_name="rep",
        )

    def change(contact, channel, when, *fields):
        return [
            ComplianceChange(
                contact=contact,
                actor_name="system",
                channel=channel,
                field=field,
                old_value="",
                new_value="x",
                changed_at=when,
            )
            for field in fields
        ]

    bulk_time = at(THIS_MONDAY, hour=10)
    rows = [
        *change(complete[0], ComplianceChannel.BULK, bulk_time, "permission_type"),
        *change(complete[1], ComplianceChannel.BULK, bulk_time, "permission_type"),
        *change(
            complete[0],
            ComplianceChannel.IMPORT,
            at(THIS_MONDAY - datetime.timedelta(weeks=10)),
            "source_type",
            "permission_type",
        ),
        *change(
            complete[1],
            ComplianceChannel.ADMIN,
            at(THIS_MONDAY + datetime.timedelta(days=1)),
            "source_type",
        ),
        *change(
            complete[1],
            ComplianceChannel.SALESFORCE_SYNC,
            at(FIRST_MONDAY - datetime.timedelta(weeks=4)),
            "permission_type",
        ),
    ]
    ComplianceChange.objects.bulk_create(rows)
    return timezone.now()
