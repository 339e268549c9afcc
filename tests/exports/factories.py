"""A contact with every field filled, for exports that must show them all."""

import datetime

from contacts.choices import PermissionType, SourceType
from tests.factories import ContactFactory

EVERY_FIELD = {
    "first_name": "Zoë",
    "last_name": "Müller-Łukasz",
    "company": 'Ærø Trading, "Ltd"',
    "title": "Head of Sales\nEMEA",
    "email": "zoe.muller@example.com",
    "phone_number": "+44 20 7946 0958",
    "website": "https://aero.example.com/",
    "other": "=1+1",
    "facebook": "https://facebook.com/zoe",
    "twitter": "@zoe",
    "linkedin": "https://linkedin.com/in/zoe",
    "salesforce_id": "003A000001abcDEF",
    "permission_type": PermissionType.CONSENT,
    "consent_date": datetime.date(2026, 3, 1),
    "consent_expires_on": datetime.date(2028, 3, 1),
    "processing_purpose": "Newsletters about our product range",
    "permission_type_description": "",
    "source_type": SourceType.MANUAL_UPLOAD,
    "source_type_description": "",
    "is_unsubscribed": True,
    "subscription_changed_at": datetime.datetime(2026, 6, 1, 8, 0, tzinfo=datetime.UTC),
    "last_activity_at": datetime.datetime(2026, 7, 1, 9, 0, tzinfo=datetime.UTC),
}


def full_contact(**overrides):
    return ContactFactory(**{**EVERY_FIELD, **overrides})


def empty_contact(**overrides):
    empty = {"first_name": "", "last_name": "", "company": "", "title": ""}
    return ContactFactory(**{**empty, "email": "nobody@example.com", **overrides})
