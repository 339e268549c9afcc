"""Reads of the compliance history, ready for people to read."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from compliance.models import Channel, ComplianceChange
from compliance.rules import DATE_FIELDS
from contacts.choices import PermissionType, SourceType
from contacts.models import Contact

HISTORY_PAGE_SIZE = 20

_CHOICES = {"permission_type": PermissionType, "source_type": SourceType}


@dataclass(frozen=True)
class HistoryEntry:
    changed_at: datetime.datetime
    actor: str
    channel: str
    field: str
    old_value: str
    new_value: str


def field_label(field: str) -> str:
    """Return the label people read for a compliance field."""
    try:
        model_field = Contact._meta.get_field(field)
    except FieldDoesNotExist:  # a field removed since the row was written
        return field
    return str(getattr(model_field, "verbose_name", field))


def value_label(field: str, value: str) -> str:
    """Return a stored history value as people read it (labels, local dates)."""
    if value == "":
        return "—"
    if field in _CHOICES:
        choices = _CHOICES[field]
        return str(choices(value).label) if value in choices.values else value
    if field in DATE_FIELDS or field == "last_activity_at":
        try:
            return date_format(datetime.date.fromisoformat(value))
        except ValueError:
            return value
    return value


def _channel_label(channel: str) -> str:
    return str(Channel(channel).label) if channel in Channel.values else channel


def compliance_history_page(*, contact_id: int, page: int | str | None = 1) -> Page:
    """Return one page of a contact's compliance history, newest first."""
    rows = ComplianceChange.objects.filter(contact_id=contact_id).order_by(
        "-changed_at", "-id"
    )
    paginator = Paginator(rows, HISTORY_PAGE_SIZE)
    # Its rows are replaced by the entries people read.
    result: Page[Any] = paginator.get_page(page)
    result.object_list = [
        HistoryEntry(
            changed_at=row.changed_at,
            actor=row.actor_name or _("unknown"),
            channel=_channel_label(row.channel),
            field=field_label(row.field),
            old_value=value_label(row.field, row.old_value),
            new_value=value_label(row.field, row.new_value),
        )
        for row in result.object_list
    ]
    return result
