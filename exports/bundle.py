"""The data-subject access bundle (GDPR Art. 15 and 20): all the app holds on a person.

What goes in is declared here, table by table and field by field. A test
walks every model with a relation to Contact and every field of each, and
fails when one is neither written below nor left out with a stated reason, so
a table or column added later cannot silently escape the bundle.
"""

import datetime
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import translation

from contacts.models import Contact
from exports.columns import CONTACT_FIELDS, timestamp
from exports.safety import csv_text
from exports.writers import contact_csv

# The Contact fields beyond the contact's CSV, written to contact-details.csv.
CONTACT_DETAIL_FIELDS = (
    "permission_type",
    "consent_date",
    "consent_expires_on",
    "processing_purpose",
    "permission_type_description",
    "source_type",
    "source_type_description",
    "is_unsubscribed",
    "subscription_changed_at",
    "last_activity_at",
)
CONTACT_NOT_EXPORTED = {
    "compliance_version": "an edit counter that detects stale forms; it says "
    "nothing about the person",
}


@dataclass(frozen=True)
class Section:
    """A table of rows about the contact, written as `<name>.csv` and a JSON list."""

    name: str
    model: str
    contact_field: str
    fields: tuple[str, ...]
    order_by: tuple[str, ...]
    not_exported: dict[str, str] = field(default_factory=dict)

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)


_ABOUT_THE_PERSON = "the person the bundle is about"
_STAFF_ACCOUNT = "the staff account's internal id; the name beside it says who"

_NOT_THE_PERSON = {"id": "an internal row number", "contact": _ABOUT_THE_PERSON}

SECTIONS: tuple[Section, ...] = (
    Section(
        name="compliance-history",
        model="compliance.ComplianceChange",
        contact_field="contact",
        fields=(
            "changed_at",
            "channel",
            "field",
            "old_value",
            "new_value",
            "actor_name",
        ),
        order_by=("changed_at", "id"),
        not_exported={**_NOT_THE_PERSON, "actor": _STAFF_ACCOUNT},
    ),
    Section(
        name="unsubscribe-history",
        model="unsubscribes.SubscriptionChange",
        contact_field="contact",
        fields=(
            "changed_at",
            "action",
            "channel",
            "actor_name",
            "consent_date",
            "processing_purpose",
            "consent_obtained",
            "evidence_note",
            "evidence_file",
        ),
        order_by=("changed_at", "id"),
        not_exported={**_NOT_THE_PERSON, "actor": _STAFF_ACCOUNT},
    ),
    Section(
        name="sent-emails",
        model="unsubscribes.SentEmail",
        contact_field="contact",
        fields=("sent_at", "subject", "sender_name"),
        order_by=("sent_at", "id"),
        not_exported={**_NOT_THE_PERSON, "sender": _STAFF_ACCOUNT},
    ),
    Section(
        name="salesforce-sync",
        model="salesforce_sync.OutboxEntry",
        contact_field="contact",
        fields=(
            "created_at",
            "reason",
            "status",
            "processed_at",
            "opted_out",
            "error_code",
            "error_message",
        ),
        order_by=("created_at", "id"),
        not_exported={
            **_NOT_THE_PERSON,
            "channel": "the unsubscribe history names the channel of each change",
            "attempts": "an internal retry counter",
            "salesforce_id": "set only on an erased person's row, which belongs "
            "to no contact; the contact's Salesforce ID is in contact.csv",
        },
    ),
    Section(
        name="export-history",
        model="exports.ExportRecord",
        contact_field="contact",
        fields=("exported_at", "kind", "row_count", "completed", "actor_name"),
        order_by=("exported_at", "id"),
        not_exported={
            **_NOT_THE_PERSON,
            "actor": _STAFF_ACCOUNT,
            "selection": "the filter of a bulk export; records linked to one "
            "contact have none",
        },
    ),
)

# Models that point at Contact but hold nothing about the person, each with why.
RELATIONS_NOT_IN_BUNDLE: dict[str, str] = {}


@dataclass(frozen=True)
class Bundle:
    content: bytes
    row_count: int


def _archive_path(instance: models.Model, stored: FieldFile) -> str:
    """Return where a stored file (e.g. a proof of consent) sits in the ZIP."""
    file_name = PurePath(stored.name or "").name
    return f"files/{instance._meta.model_name}/{instance.pk}-{file_name}"


def _plain(instance: models.Model, name: str) -> Any:
    """Return a field's value as JSON holds it: text, number, boolean or null."""
    model_field = instance._meta.get_field(name)
    if not isinstance(model_field, models.Field):
        raise TypeError(f"{name} is a reverse relation, not a field")
    if model_field.choices:
        return str(getattr(instance, f"get_{name}_display")())
    value = getattr(instance, model_field.attname)
    if isinstance(value, datetime.datetime):
        return timestamp(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, FieldFile):
        return _archive_path(instance, value) if value else None
    return value


def _record(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(instance, name) for name in names}


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _csv(names: tuple[str, ...], records: list[dict[str, Any]]) -> str:
    rows = ([_cell(record[name]) for name in names] for record in records)
    return csv_text(names, rows)


def build_access_bundle(contact: Contact, *, exported_at: datetime.datetime) -> Bundle:
    """Return the ZIP of everything the app stores about `contact`."""
    stamp = timestamp(exported_at)
    buffer = io.BytesIO()
    archive = zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED)
    # Choice labels in English, as in every other export.
    with archive, translation.override("en"):
        person = _record(contact, (*CONTACT_FIELDS, *CONTACT_DETAIL_FIELDS))
        archive.writestr("contact.csv", contact_csv(contact, exported_at=stamp))
        archive.writestr("contact-details.csv", _csv(CONTACT_DETAIL_FIELDS, [person]))
        document: dict[str, Any] = {
            "person_id": contact.pk,
            "exported_at": stamp,
            "contact": person,
        }
        row_count = 1

        for section in SECTIONS:
            rows = list(
                section.model_class()
                ._default_manager.filter(**{section.contact_field: contact})
                .order_by(*section.order_by)
            )
            records = [_record(row, section.fields) for row in rows]
            archive.writestr(f"{section.name}.csv", _csv(section.fields, records))
            document[section.name] = records
            row_count += len(records)
            for row in rows:
                for name in section.fields:
                    stored = getattr(row, name)
                    if isinstance(stored, FieldFile) and stored:
                        with stored.open("rb") as source:
                            archive.writestr(_archive_path(row, stored), source.read())

        archive.writestr(
            "bundle.json", json.dumps(document, ensure_ascii=False, indent=2)
        )
    return Bundle(content=buffer.getvalue(), row_count=row_count)
