"""The columns of the contact CSVs, and how one contact becomes one row.

Headers are a contract (issue 6): the people who open these files, and the
tools they feed them to, rely on the exact names and order.
"""

import datetime
import enum
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from django.utils import translation

from contacts.choices import PermissionType, SourceType
from exports.safety import safe_cell

CONTACT_HEADER = (
    "First Name",
    "Last Name",
    "Company",
    "Title",
    "Email ID",
    "Phone Number",
    "Website",
    "Other",
    "Updated At",
    "Created At",
    "Salesforce ID",
    "Person ID",
    "Facebook",
    "Twitter",
    "LinkedIn",
    "Exported At",
)
# The field names are the UI's labels as issue 3 writes them.
BULK_HEADER = (
    *CONTACT_HEADER,
    "Permission type",
    "Consent date",
    "Processing purpose",
    "Source type",
    "Unsubscribed",
    "Unsubscribed since",
)

# Read from the database in this order; the row functions unpack it.
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "title",
    "email",
    "phone_number",
    "website",
    "other",
    "updated_at",
    "created_at",
    "salesforce_id",
    "id",
    "facebook",
    "twitter",
    "linkedin",
)
BULK_FIELDS = (
    *CONTACT_FIELDS,
    "permission_type",
    "consent_date",
    "processing_purpose",
    "source_type",
    "is_unsubscribed",
    "subscription_changed_at",
)
# Exported At is the one column that is not read from the contact.
EXPORTED_AT_POSITION = CONTACT_HEADER.index("Exported At")


class Cell(enum.Enum):
    """How a value read from the database becomes cell text.

    The row functions below are the reference; exports/copy_query.py writes
    each kind again as SQL, for PostgreSQL's COPY, and its tests prove both
    give the same cells.
    """

    TEXT = "text"  # safe_cell
    NUMBER = "number"  # str
    TIMESTAMP = "timestamp"  # timestamp
    DATE = "date"  # date
    BOOLEAN = "boolean"  # boolean
    CHOICE = "choice"  # the English label of BULK_CHOICES[field]
    UNSUBSCRIBED_SINCE = "unsubscribed_since"  # timestamp, while unsubscribed


BULK_CELLS = {
    "first_name": Cell.TEXT,
    "last_name": Cell.TEXT,
    "company": Cell.TEXT,
    "title": Cell.TEXT,
    "email": Cell.TEXT,
    "phone_number": Cell.TEXT,
    "website": Cell.TEXT,
    "other": Cell.TEXT,
    "updated_at": Cell.TIMESTAMP,
    "created_at": Cell.TIMESTAMP,
    "salesforce_id": Cell.TEXT,
    "id": Cell.NUMBER,
    "facebook": Cell.TEXT,
    "twitter": Cell.TEXT,
    "linkedin": Cell.TEXT,
    "permission_type": Cell.CHOICE,
    "consent_date": Cell.DATE,
    "processing_purpose": Cell.TEXT,
    "source_type": Cell.CHOICE,
    "is_unsubscribed": Cell.BOOLEAN,
    "subscription_changed_at": Cell.UNSUBSCRIBED_SINCE,
}
BULK_CHOICES: dict[str, type[models.TextChoices]] = {
    "permission_type": PermissionType,
    "source_type": SourceType,
}


def timestamp(value: datetime.datetime | None) -> str:
    """Return an ISO 8601 UTC timestamp to the second, e.g. 2026-12-03T09:30:00Z."""
    if value is None:
        return ""
    utc = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="seconds") + "Z"


def date(value: datetime.date | None) -> str:
    return "" if value is None else value.isoformat()


def boolean(value: bool) -> str:
    return "true" if value else "false"


def english_labels(choices: type[models.Choices]) -> dict[str, str]:
    """Return value → label in English: a file reads the same whoever exports it."""
    with translation.override("en"):
        return {value: str(label) for value, label in choices.choices}


# Only free-text values pass through safe_cell here: ids, timestamps, dates and
# our own labels cannot start with a formula character, and the bulk path
# writes millions of cells.
def contact_row(values: Sequence[Any], exported_at: str) -> list[str]:
    """Return the CSV row of one contact, from values read in CONTACT_FIELDS order."""
    (
        first_name,
        last_name,
        company,
        title,
        email,
        phone_number,
        website,
        other,
        updated_at,
        created_at,
        salesforce_id,
        person_id,
        facebook,
        twitter,
        linkedin,
    ) = values[:15]
    return [
        safe_cell(first_name),
        safe_cell(last_name),
        safe_cell(company),
        safe_cell(title),
        safe_cell(email),
        safe_cell(phone_number),
        safe_cell(website),
        safe_cell(other),
        timestamp(updated_at),
        timestamp(created_at),
        safe_cell(salesforce_id),
        str(person_id),
        safe_cell(facebook),
        safe_cell(twitter),
        safe_cell(linkedin),
        exported_at,
    ]


def bulk_row_builder() -> Callable[[Sequence[Any], str], list[str]]:
    """Return a function making a bulk row from values read in BULK_FIELDS order."""
    permission_labels = english_labels(BULK_CHOICES["permission_type"])
    source_labels = english_labels(BULK_CHOICES["source_type"])

    def bulk_row(values: Sequence[Any], exported_at: str) -> list[str]:
        (
            permission_type,
            consent_date,
            processing_purpose,
            source_type,
            is_unsubscribed,
            subscription_changed_at,
        ) = values[15:]
        row = contact_row(values, exported_at)
        row += [
            permission_labels.get(permission_type, safe_cell(permission_type)),
            date(consent_date),
            safe_cell(processing_purpose),
            source_labels.get(source_type, safe_cell(source_type)),
            boolean(is_unsubscribed),
            timestamp(subscription_changed_at) if is_unsubscribed else "",
        ]
        return row

    return bulk_row
