"""Turn contacts into CSV: one contact at once, or any number as a stream.

`ContactsCsvStream` is the whole bulk path short of HTTP and the export log,
so the benchmark (issue 10) can drive it with nothing but a queryset.
"""

import csv
import io
import itertools
from collections.abc import Iterator

from django.db import connections, transaction
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
from exports.copy_query import bulk_copy_sql
from exports.copy_stream import CopyOut
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
    response starts at once. `rows_written` counts the rows handed out so far.

    On PostgreSQL the rows come from COPY, which renders every cell in SQL
    several times faster than Python; elsewhere, or with `use_copy=False`,
    Python writes the same bytes. Either way one statement reads the rows, so
    the file is one consistent snapshot, inside a transaction: a COPY
    cancelled because the client left is rolled back with it, which leaves
    the connection usable, and outside one Django declares the Python path's
    server-side cursor WITH HOLD, which makes PostgreSQL materialise the whole
    result before the first row can be fetched.
    """

    def __init__(
        self,
        contacts: QuerySet[Contact],
        *,
        exported_at: str,
        chunk_size: int = CHUNK_SIZE,
        use_copy: bool | None = None,
    ) -> None:
        self.contacts = contacts
        self.exported_at = exported_at
        # Rows per chunk on the Python path; COPY's chunks are sized in bytes.
        self.chunk_size = chunk_size
        # The one place the path is chosen.
        if use_copy is None:
            use_copy = connections[contacts.db].vendor == "postgresql"
        self.use_copy = use_copy
        self.rows_written = 0

    def __iter__(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        buffer.write(BOM)
        csv.writer(buffer, lineterminator="\r\n").writerow(BULK_HEADER)
        yield buffer.getvalue().encode("utf-8")

        with transaction.atomic(using=self.contacts.db):
            if self.use_copy:
                yield from self._copy_rows()
            else:
                yield from self._python_rows()

    def _copy_rows(self) -> Iterator[bytes]:
        sql, params = bulk_copy_sql(self.contacts, exported_at=self.exported_at)
        with connections[self.contacts.db].cursor() as cursor:
            # JIT-compiling these expressions takes longer than it saves at a
            # million rows, and it happens before the first row is sent.
            cursor.execute("SET LOCAL jit = off")
            copy = CopyOut(cursor, sql, params)
            for chunk, rows in copy:
                self.rows_written += rows
                yield chunk
        if copy.rowcount is not None:  # COPY's own count, once it has ended
            self.rows_written = copy.rowcount

    def _python_rows(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        bulk_row = bulk_row_builder()
        exported_at = self.exported_at
        values = self.contacts.values_list(*BULK_FIELDS).iterator(
            chunk_size=self.chunk_size
        )
        while batch := list(itertools.islice(values, self.chunk_size)):
            writer.writerows(bulk_row(row, exported_at) for row in batch)
            self.rows_written += len(batch)
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
