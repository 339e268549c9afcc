"""A bulk export split over several connections: same file, one snapshot, one stop."""

import csv
import io
import itertools
import time

import psycopg2
import pytest
from django.core.signals import request_finished
from django.db import DataError, close_old_connections, connection, transaction
from django.db.models import Value
from django.db.models.functions import Repeat
from django.urls import reverse

from contacts.models import Contact
from exports import views, writers
from exports.copy_stream import CopyOut, snapshot_cursors
from exports.models import ExportRecord
from exports.safety import BOM
from exports.writers import MAX_SLICES, ContactsCsvStream, id_slices
from tests.exports.test_copy_export import _contacts_of_every_kind
from tests.factories import ContactFactory, contacts_in_bulk

EXPORTED_AT = "2026-12-03T09:30:15Z"
# The connections of the test database whose latest statement is a COPY,
# running or waiting for the next: the export's own, while it is open.
COPYING = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND query LIKE 'COPY%%'
"""


def _export(contacts, **options) -> bytes:
    return b"".join(ContactsCsvStream(contacts, exported_at=EXPORTED_AT, **options))


def _rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8").removeprefix(BOM)
    return list(csv.reader(io.StringIO(text, newline="")))


def _monitor():
    return psycopg2.connect(**connection.get_connection_params())


def _copying() -> int:
    monitor = _monitor()
    try:
        with monitor.cursor() as cursor:
            cursor.execute(COPYING)
            return cursor.fetchone()[0]
    finally:
        monitor.close()


def _copying_soon(expected: int) -> int:
    """Return how many connections are at a COPY, waiting a while for `expected`.

    A connection starts its first COPY in its own thread, and one that is
    closed leaves pg_stat_activity when its server process has exited.
    """
    for _ in range(100):
        if (running := _copying()) == expected:
            return running
        time.sleep(0.05)
    return running


@pytest.fixture
def big_contacts(monkeypatch) -> list[int]:
    """Return the ids of 400 contacts of 100 kB each, in slices of 5.

    Each connection's queue holds two rows. A COPY ends only once its last
    row is in the queue, and the connection's next COPY starts only then: at
    any moment a connection is at most a slice ahead of the reader.
    """
    monkeypatch.setattr(writers, "COPY_QUEUE_CHUNKS", 2)
    monkeypatch.setattr(writers, "SLICE_IDS", 5)
    contacts_in_bulk(400)
    Contact.objects.update(processing_purpose=Repeat(Value("x"), 100_000))
    return list(Contact.objects.order_by("id").values_list("id", flat=True))


def test_slices_cover_every_id_once_in_order():
    assert id_slices(1, 10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert id_slices(7, 7, 4) == [(6, 7)]


def test_a_wide_id_range_is_cut_into_at_most_max_slices():
    slices = id_slices(1, 10_000_000, 100)

    assert len(slices) <= MAX_SLICES
    assert slices[0][0] == 0
    assert slices[-1][1] == 10_000_000
    assert all(left[1] == right[0] for left, right in itertools.pairwise(slices))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_split_export_writes_the_same_bytes_as_one_statement(postgres):
    _contacts_of_every_kind()
    contacts = Contact.objects.order_by("id")

    split = _export(contacts, copy_connections=3, slice_ids=2)
    one_statement = _export(contacts, copy_connections=1)
    python = _export(contacts, use_copy=False)

    assert split == one_statement == python
    ids = [int(row[11]) for row in _rows(split)[1:]]
    assert ids == list(contacts.values_list("id", flat=True))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_split_export_keeps_the_filter(postgres):
    _contacts_of_every_kind()
    contacts = Contact.objects.filter(is_unsubscribed=False).order_by("id")

    split = _export(contacts, slice_ids=3)

    assert split == _export(contacts, use_copy=False)
    assert len(_rows(split)) == contacts.count() + 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_export_in_another_order_than_ids_keeps_its_order(postgres):
    # Slices of ids follow each other in id order: any other order, or a
    # slice of the rows, is read by one statement.
    ContactFactory.create_batch(12)
    by_name = Contact.objects.order_by("last_name", "first_name", "id")

    exported = _export(by_name, copy_connections=3, slice_ids=2)
    first_five = _export(
        Contact.objects.order_by("id")[:5], copy_connections=3, slice_ids=2
    )

    ids = [int(row[11]) for row in _rows(exported)[1:]]
    assert ids == list(by_name.values_list("id", flat=True))
    assert ids != sorted(ids)  # else the test would prove nothing
    assert [int(row[11]) for row in _rows(first_five)[1:]] == list(
        Contact.objects.order_by("id").values_list("id", flat=True)[:5]
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_slices_are_read_on_two_connections(postgres, big_contacts):
    chunks = iter(ContactsCsvStream(Contact.objects.order_by("id"), exported_at="x"))
    next(chunks)
    next(chunks)

    copying = _copying_soon(2)
    chunks.close()

    assert copying == 2
    assert _copying_soon(0) == 0


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_every_connection_reads_the_contacts_as_they_were_when_the_export_began(
    postgres, big_contacts
):
    ids = big_contacts
    # The last slices, on both connections, are far beyond what either has
    # read when the change below commits.
    changed = ids[-1], ids[-6]
    chunks = iter(ContactsCsvStream(Contact.objects.order_by("id"), exported_at="x"))
    try:
        next(chunks)
        next(chunks)

        writer = _monitor()
        with writer, writer.cursor() as cursor:
            cursor.execute(
                "UPDATE contacts_contact SET first_name = 'Changed' WHERE id = ANY(%s)",
                [list(changed)],
            )
            cursor.execute("DELETE FROM contacts_contact WHERE id = %s", [ids[-11]])
        writer.close()
        rest = b"".join(chunks)
    finally:
        # An export left open would hold the table against the test's cleanup.
        chunks.close()

    # The chunks so far ended at a row's end: the rest starts with a row.
    rows = csv.reader(io.StringIO(rest.decode(), newline=""))
    exported = {int(row[11]): row[0] for row in rows}
    assert ids[-11] in exported
    assert "Changed" not in {exported[contact_id] for contact_id in changed}
    assert Contact.objects.filter(first_name="Changed").count() == 2


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_client_that_leaves_a_split_export_stops_every_connection(
    rf, admin_user, postgres, big_contacts
):
    request = rf.post(reverse("exports:contacts_csv"), {"scope": "all", "filter": ""})
    request.user = admin_user
    response = views.contacts_csv(request)
    chunks = iter(response.streaming_content)
    next(chunks)
    next(chunks)
    copying = _copying_soon(2)

    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    assert copying == 2
    assert _copying_soon(0) == 0
    record = ExportRecord.objects.get()
    assert record.completed is False
    assert 0 < record.row_count < 400


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_split_export_through_the_view_records_every_row(
    client, admin_user, postgres, monkeypatch
):
    ContactFactory.create_batch(23)
    monkeypatch.setattr(writers, "SLICE_IDS", 4)
    client.force_login(admin_user)

    response = client.post(
        reverse("exports:contacts_csv"), {"scope": "all", "filter": ""}
    )
    content = b"".join(response.streaming_content)

    rows = _rows(content)[1:]
    assert [int(row[11]) for row in rows] == list(
        Contact.objects.order_by("id").values_list("id", flat=True)
    )
    record = ExportRecord.objects.get()
    assert record.completed is True
    assert record.row_count == 23


def test_inside_a_transaction_the_export_stays_on_its_own_connection(postgres):
    # These contacts are not committed: another connection would not see them.
    ContactFactory.create_batch(9)

    content = _export(Contact.objects.order_by("id"), slice_ids=2)

    assert len(_rows(content)) == 10


def test_an_error_on_one_connection_reaches_the_reader(postgres):
    other = _monitor()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            copy = CopyOut(
                [cursor, other.cursor()],
                [
                    "COPY (SELECT n FROM generate_series(1, 1000) AS n) TO STDOUT",
                    "COPY (SELECT 1 / 0) TO STDOUT",
                ],
                errors=connection.wrap_database_errors,
            )
            with pytest.raises(DataError):
                list(copy)
    finally:
        other.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_other_connections_read_the_snapshot_of_the_first(postgres):
    ContactFactory.create_batch(3)
    writer = _monitor()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT count(*) FROM contacts_contact")
            # Committed after the first connection's snapshot was taken.
            with writer, writer.cursor() as other_writer:
                other_writer.execute(
                    "UPDATE contacts_contact SET first_name = 'Changed'"
                )
            with snapshot_cursors(connection, cursor, 2) as others:
                seen = []
                for other in others:
                    other.execute(
                        "SELECT count(*) FROM contacts_contact "
                        "WHERE first_name = 'Changed'"
                    )
                    seen.append(other.fetchone()[0])
    finally:
        writer.close()

    assert seen == [0, 0]
    assert Contact.objects.filter(first_name="Changed").count() == 3
