"""Turn contacts into CSV: one contact at once, or any number as a stream.

`ContactsCsvStream` is the whole bulk path short of HTTP and the export log,
so the benchmark (issue 10) can drive it with nothing but a queryset.
"""

import csv
import io
import itertools
from collections.abc import Iterator

from django.db import transaction
from django.db.models import QuerySet

from contacts.models import Contact
from exports.columns import (
    BULK_FIELDS,
    BULK_HEADER,
    CONTACT_FIELDS,
    CONTACT_HEADER,
    bulk_row_builder,
    contact_row,
)
from exports.safety import BOM, csv_text

# Rows per fetch from the server-side cursor, and per chunk of the response.
CHUNK_SIZE = 2000


def contact_csv(contact: Contact, *, exported_at: str) -> str:
    """Return the CSV document of one contact, header and one row."""
    values = [getattr(contact, field) for field in CONTACT_FIELDS]
    return csv_text(CONTACT_HEADER, [contact_row(values, exported_at)])


class ContactsCsvStream:
    """Iterate the CSV of many contacts as UTF-8 chunks, holding one chunk at a time.

    The first chunk (BOM and header) is produced before any query runs, so a
    response starts at once. Rows come from a server-side cursor on
    PostgreSQL; the cursor is opened inside a transaction because outside one
    Django declares it WITH HOLD, and PostgreSQL then materialises the whole
    result before the first row can be fetched. `rows_written` counts the rows
    handed out so far.
    """

    def __init__(
        self,
        contacts: QuerySet[Contact],
        *,
        exported_at: str,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.contacts = contacts
        self.exported_at = exported_at
        self.chunk_size = chunk_size
        self.rows_written = 0

    def __iter__(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write(BOM)
        writer.writerow(BULK_HEADER)
        yield self._drain(buffer)

        bulk_row = bulk_row_builder()
        exported_at = self.exported_at
        with transaction.atomic(using=self.contacts.db):
            values = self.contacts.values_list(*BULK_FIELDS).iterator(
                chunk_size=self.chunk_size
            )
            while batch := list(itertools.islice(values, self.chunk_size)):
                writer.writerows(bulk_row(row, exported_at) for row in batch)
                self.rows_written += len(batch)
                yield self._drain(buffer)

    @staticmethod
    def _drain(buffer: io.StringIO) -> bytes:
        chunk = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return chunk
