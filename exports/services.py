"""Exports of contact data, each one recorded in the export history."""

import datetime
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact
from exports.bundle import build_access_bundle
from exports.columns import timestamp
from exports.models import ExportKind, ExportRecord
from exports.writers import ContactsCsvStream, contact_csv

logger = logging.getLogger(__name__)

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


@transaction.atomic
def export_record_create(
    *,
    kind: str,
    actor: User,
    row_count: int,
    exported_at: datetime.datetime,
    contact: Contact | None = None,
    selection: dict | None = None,
    completed: bool = True,
) -> ExportRecord:
    """Record one export in the append-only export history."""
    record = ExportRecord(
        kind=kind,
        actor=actor,
        actor_name=actor.get_username(),
        contact=contact,
        selection=selection or {},
        row_count=row_count,
        completed=completed,
        exported_at=exported_at,
    )
    record.full_clean()
    record.save()
    return record


def contact_export(*, contact: Contact, actor: User) -> ExportFile:
    """Write one contact's CSV and record the export."""
    exported_at = timezone.now()
    content = contact_csv(contact, exported_at=timestamp(exported_at))

    export_record_create(
        kind=ExportKind.SINGLE,
        actor=actor,
        contact=contact,
        row_count=1,
        exported_at=exported_at,
    )
    logger.info("Exported contact %s as CSV", contact.pk)
    return ExportFile(
        filename=f"person-{contact.pk}-{exported_at:%Y-%m-%d}.csv",
        content_type=CSV_CONTENT_TYPE,
        content=content.encode("utf-8"),
    )


def contacts_export_filename(exported_at: datetime.datetime) -> str:
    return f"people-{exported_at:%Y-%m-%d}.csv"


def contacts_export_stream(
    *,
    contacts: QuerySet[Contact],
    selection: dict,
    actor: User,
    exported_at: datetime.datetime,
) -> Iterator[bytes]:
    """Stream many contacts' CSV, recording the export once the stream ends.

    The row count is known only at the end, so the record is written then. A
    client that goes away mid-stream may still hold the rows sent so far: the
    export is recorded anyway, as not completed, with those rows counted.
    """
    if not contacts.query.order_by:
        contacts = contacts.order_by("id")
    # Contacts picked by hand are a thousand at most: one statement reads them.
    copy_connections = 1 if selection.get("mode") == "selected" else None
    stream = ContactsCsvStream(
        contacts,
        exported_at=timestamp(exported_at),
        copy_connections=copy_connections,
    )
    completed = False
    try:
        yield from stream
        completed = True
    finally:
        _record_stream(stream, completed, selection, actor, exported_at)


def _record_stream(
    stream: ContactsCsvStream,
    completed: bool,
    selection: dict,
    actor: User,
    exported_at: datetime.datetime,
) -> None:
    try:
        export_record_create(
            kind=ExportKind.BULK,
            actor=actor,
            selection=selection,
            row_count=stream.rows_written,
            completed=completed,
            exported_at=exported_at,
        )
    except Exception:
        if completed:
            raise
        # The stream is already failing; that error, not this one, is the news.
        logger.exception("Could not record an interrupted bulk export")
        return
    if completed:
        logger.info("Exported %s contacts as CSV", stream.rows_written)
    else:
        logger.warning(
            "Bulk export stopped after %s rows: client gone or error",
            stream.rows_written,
        )


def access_bundle_export(*, contact: Contact, actor: User) -> ExportFile:
    """Write everything stored about a contact as a ZIP and record the export."""
    exported_at = timezone.now()
    bundle = build_access_bundle(contact, exported_at=exported_at)

    export_record_create(
        kind=ExportKind.ACCESS_BUNDLE,
        actor=actor,
        contact=contact,
        row_count=bundle.row_count,
        exported_at=exported_at,
    )
    logger.info("Exported the access bundle of contact %s", contact.pk)
    return ExportFile(
        filename=f"person-{contact.pk}-access-{exported_at:%Y-%m-%d}.zip",
        content_type="application/zip",
        content=bundle.content,
    )


@transaction.atomic
def export_records_unlink(*, contact_ids: list[int]) -> int:
    """Unlink the export history from contacts being erased; return the rows."""
    return ExportRecord.objects.filter(contact_id__in=contact_ids).update(contact=None)
