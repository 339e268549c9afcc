"""Turn contacts into CSV: one contact at once, or any number as a stream.

`ContactsCsvStream` is the whole bulk path short of HTTP and the export log,
so the benchmark (issue 10) can drive it with nothing but a queryset.
"""

import csv
import io
import itertools
from collections.abc import Iterator

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Max, Min, QuerySet

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
from exports.copy_stream import MAX_CHUNKS, CopyOut, snapshot_cursors
from exports.safety import BOM, csv_text

# Rows per fetch from the server-side cursor, and per chunk of the response.
CHUNK_SIZE = 2000
# A split export's COPY statements each cover this many ids at least, and are
# at most this many. A slice of 16,384 contacts is about 3.5 MB of CSV: what
# a connection computes ahead while the reader passes on another's slice, so
# its queue holds about that much (see COPY_QUEUE_CHUNKS).
SLICE_IDS = 16_384
MAX_SLICES = 256
COPY_QUEUE_CHUNKS = 64


def id_slices(low: int, high: int, width: int) -> list[tuple[int, int]]:
    """Return (after, up to) bounds that cover the ids low..high in order.

    Each slice spans `width` ids, or more where that would make more than
    MAX_SLICES of them.
    """
    width = max(width, -(-(high - low + 1) // MAX_SLICES))
    return [
        (start - 1, min(start + width - 1, high))
        for start in range(low, high + 1, width)
    ]


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
    Python writes the same bytes. The rows are read inside a transaction: a
    COPY cancelled because the client left is rolled back with it, which
    leaves the connection usable, and outside one Django declares the Python
    path's server-side cursor WITH HOLD, which makes PostgreSQL materialise
    the whole result before the first row can be fetched.

    Contacts in id order, read outside any caller's transaction, are split
    into slices of ids that COPY reads on `copy_connections` connections at
    once, all under one snapshot; otherwise one statement reads them. Either
    way the file is the contacts as they were at one moment.
    """

    def __init__(
        self,
        contacts: QuerySet[Contact],
        *,
        exported_at: str,
        chunk_size: int = CHUNK_SIZE,
        use_copy: bool | None = None,
        copy_connections: int | None = None,
        slice_ids: int | None = None,
    ) -> None:
        self.contacts = contacts
        self.exported_at = exported_at
        # Rows per chunk on the Python path; COPY's chunks are sized in bytes.
        self.chunk_size = chunk_size
        # The one place the path is chosen.
        if use_copy is None:
            use_copy = connections[contacts.db].vendor == "postgresql"
        self.use_copy = use_copy
        if copy_connections is None:
            copy_connections = settings.EXPORT_COPY_CONNECTIONS
        self.copy_connections = copy_connections
        self.slice_ids = SLICE_IDS if slice_ids is None else slice_ids
        self.rows_written = 0

    def __iter__(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        buffer.write(BOM)
        csv.writer(buffer, lineterminator="\r\n").writerow(BULK_HEADER)
        yield buffer.getvalue().encode("utf-8")

        # Asked before the transaction below opens one.
        split = self.use_copy and self._can_split()
        with transaction.atomic(using=self.contacts.db):
            if self.use_copy:
                yield from self._copy_rows(split)
            else:
                yield from self._python_rows()

    def _can_split(self) -> bool:
        """Say whether COPY may read the contacts on several connections.

        The other connections see only what is committed, so a caller's open
        transaction keeps the export on its own connection; and the slices
        follow each other in id order, so the rows must too.
        """
        query = self.contacts.query
        return (
            self.copy_connections > 1
            and not connections[self.contacts.db].in_atomic_block
            and tuple(query.order_by) in {("id",), ("pk",)}
            and not query.is_sliced
        )

    def _copy_rows(self, split: bool) -> Iterator[bytes]:
        db = connections[self.contacts.db]
        with db.cursor() as cursor:
            if split:
                # Every connection reads under this transaction's snapshot.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # JIT-compiling these expressions takes longer than it saves at a
            # million rows, and it happens before the first row is sent.
            cursor.execute("SET LOCAL jit = off")
            statements = [
                cursor.mogrify(*bulk_copy_sql(part, exported_at=self.exported_at))
                for part in self._parts(split)
            ]
            others = min(self.copy_connections, len(statements)) - 1 if split else 0
            with snapshot_cursors(db, cursor, others) as other_cursors:
                for other in other_cursors:
                    other.execute("SET LOCAL jit = off")
                copy = CopyOut(
                    [cursor, *other_cursors],
                    [statement.decode() for statement in statements],
                    errors=db.wrap_database_errors,
                    max_chunks=COPY_QUEUE_CHUNKS if split else MAX_CHUNKS,
                )
                for chunk, rows in copy:
                    self.rows_written += rows
                    yield chunk
        if copy.rowcount is not None:  # COPY's own count, once all have ended
            self.rows_written = copy.rowcount

    def _parts(self, split: bool) -> list[QuerySet[Contact]]:
        """Return the querysets of the COPY statements, in the file's order."""
        if not split:
            return [self.contacts]
        bounds = self.contacts.aggregate(low=Min("id"), high=Max("id"))
        if bounds["low"] is None:
            return [self.contacts]
        return [
            self.contacts.filter(id__gt=after, id__lte=up_to)
            for after, up_to in id_slices(bounds["low"], bounds["high"], self.slice_ids)
        ]

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
