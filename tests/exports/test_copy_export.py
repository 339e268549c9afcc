"""The bulk export on PostgreSQL: COPY writes the same file, and streams it."""

import csv
import datetime
import io
import time

import psycopg2
import pytest
from django.core.signals import request_finished
from django.db import DataError, close_old_connections, connection, transaction
from django.db.models import Value
from django.db.models.functions import Repeat
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.choices import PermissionType, SourceType
from contacts.models import Contact
from exports import views
from exports.columns import BULK_CELLS, BULK_FIELDS
from exports.copy_query import safe_text_sql
from exports.copy_stream import CopyOut
from exports.models import ExportRecord
from exports.safety import BOM, FORMULA_TRIGGERS, safe_cell
from exports.writers import ContactsCsvStream
from tests.exports.factories import empty_contact, full_contact
from tests.factories import ContactFactory, contacts_in_bulk

pytestmark = pytest.mark.django_db

EXPORTED_AT = "2026-12-03T09:30:15Z"
TEXT_FIELDS = [
    "first_name",
    "last_name",
    "company",
    "title",
    "phone_number",
    "other",
    "twitter",
    "processing_purpose",
]
AWKWARD = [
    'Ærø Trading, "Ltd"',
    "Head of Sales\nEMEA",
    "two\r\nlines",
    "a\rb",
    "Zoë 日本 🙂",
    "trailing, comma,",
    '"',
    " leading space",
    "'already quoted",
]


def _export(use_copy: bool, contacts=None) -> bytes:
    contacts = Contact.objects.order_by("id") if contacts is None else contacts
    stream = ContactsCsvStream(contacts, exported_at=EXPORTED_AT, use_copy=use_copy)
    return b"".join(stream)


def _cells(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8").removeprefix(BOM)
    return list(csv.reader(io.StringIO(text, newline="")))


def _contacts_of_every_kind() -> None:
    full_contact()
    empty_contact()
    sources = SourceType.values
    for index, permission in enumerate(PermissionType.values):
        ContactFactory(
            permission_type=permission,
            source_type=sources[index % len(sources)],
            other=f"#{index}",
        )
    for index, value in enumerate(AWKWARD):
        ContactFactory(**dict.fromkeys(TEXT_FIELDS, value), email=f"odd{index}@x.eu")
    for index, trigger in enumerate(FORMULA_TRIGGERS):
        dangerous = f'{trigger}HYPERLINK("http://evil.example","x")'
        ContactFactory(
            **dict.fromkeys(TEXT_FIELDS, dangerous),
            email=f"{trigger}evil{index}@x.eu",
            website=f"{trigger}http://evil.example/",
            salesforce_id=None,
        )
    ContactFactory(
        is_unsubscribed=True,
        # Fractions of a second are cut, not rounded, on both paths.
        subscription_changed_at=datetime.datetime(
            987, 1, 2, 3, 4, 5, 999999, tzinfo=datetime.UTC
        ),
        consent_date=datetime.date(45, 6, 7),
    )
    # Subscribed again: the date of that change is not "unsubscribed since".
    ContactFactory(
        is_unsubscribed=False,
        subscription_changed_at=datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC),
    )
    legacy = ContactFactory()
    # Values that predate today's choices are shown as they are, made safe.
    Contact.objects.filter(pk=legacy.pk).update(
        permission_type="=legacy", source_type="old_crm"
    )


def test_copy_writes_the_same_bytes_as_the_python_rows(postgres):
    _contacts_of_every_kind()

    from_copy = _export(use_copy=True)
    from_python = _export(use_copy=False)

    assert _cells(from_copy) == _cells(from_python)
    assert len(_cells(from_copy)) == Contact.objects.count() + 1
    assert from_copy == from_python


def test_copy_keeps_the_filter_and_the_order_of_the_queryset(postgres):
    _contacts_of_every_kind()
    contacts = Contact.objects.filter(is_unsubscribed=False).order_by("-email")

    from_copy = _export(use_copy=True, contacts=contacts)

    assert from_copy == _export(use_copy=False, contacts=contacts)
    emails = [row[4] for row in _cells(from_copy)[1:]]
    assert len(emails) == contacts.count()


def test_every_bulk_field_says_how_it_becomes_a_cell():
    assert set(BULK_CELLS) == set(BULK_FIELDS)


def test_postgresql_exports_with_copy_and_other_databases_with_python(db):
    stream = ContactsCsvStream(Contact.objects.all(), exported_at=EXPORTED_AT)

    assert stream.use_copy is (connection.vendor == "postgresql")


# Any text PostgreSQL can store: no NUL (text cannot hold one), no lone
# surrogate (not UTF-8); often starting with a formula character.
STORABLE_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12
)
CELL_TEXT = st.one_of(
    STORABLE_TEXT,
    st.tuples(st.sampled_from(FORMULA_TRIGGERS), STORABLE_TEXT).map("".join),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(CELL_TEXT, min_size=1, max_size=20))
def test_sql_neutralises_exactly_the_cells_that_safe_cell_does(postgres, values):
    safe, params = safe_text_sql("v.text")

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {safe} FROM unnest(%s::text[]) WITH ORDINALITY AS v(text, n) "  # noqa: S608
            "ORDER BY v.n",
            [*params, values],
        )
        from_sql = [row[0] or "" for row in cursor.fetchall()]

    assert from_sql == [safe_cell(value) for value in values]


def _big_contacts(count: int) -> None:
    """Make the CSV far larger than the socket buffers between us and PostgreSQL."""
    contacts_in_bulk(count)
    Contact.objects.update(processing_purpose=Repeat(Value("x"), 100_000))


def _activity(pid: int) -> tuple[str, str]:
    """Return the state and query of a backend, seen from a second connection."""
    monitor = psycopg2.connect(**connection.get_connection_params())
    try:
        with monitor.cursor() as cursor:
            cursor.execute(
                "SELECT state, query FROM pg_stat_activity WHERE pid = %s", [pid]
            )
            return cursor.fetchone()
    finally:
        monitor.close()


def test_the_first_rows_arrive_while_copy_is_still_running(postgres):
    _big_contacts(1000)
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    stream = ContactsCsvStream(Contact.objects.order_by("id"), exported_at="x")
    chunks = iter(stream)

    next(chunks)
    first_rows = next(chunks)
    state, query = _activity(pid)
    chunks.close()

    assert first_rows.endswith(b"\r\n")
    assert state == "active"
    assert query.startswith("COPY")
    assert 0 < stream.rows_written < 1000


def test_a_reader_that_stops_holds_the_copy_at_the_queue_bound(postgres):
    sql = "COPY (SELECT repeat('x', 1000) FROM generate_series(1, 100000)) TO STDOUT"
    with transaction.atomic(), connection.cursor() as cursor:
        copy = CopyOut([cursor], [sql], chunk_bytes=10_000, max_chunks=3)
        (worker,) = copy.workers
        chunks = iter(copy)
        next(chunks)
        for _ in range(100):
            if worker.chunks.full():
                break
            time.sleep(0.05)
        held = worker.chunks.qsize()
        alive = worker.thread.is_alive()

        chunks.close()
        # The cancelled COPY aborted the transaction, as it does in the export.
        transaction.set_rollback(True)

    # The writer waits at the bound instead of reading on: PostgreSQL waits too.
    assert held == 3
    assert alive
    assert not worker.thread.is_alive()
    assert Contact.objects.count() == 0


def test_a_reader_that_leaves_cancels_the_copy_on_the_server(postgres):
    rows = 1_000_000
    with connection.cursor() as cursor:
        # nextval() is not rolled back: it tells how many rows COPY computed.
        cursor.execute("CREATE TEMPORARY SEQUENCE copied")
        sql = (
            "COPY (SELECT nextval('copied'), repeat('x', 1000) "
            "FROM generate_series(1, %s)) TO STDOUT"
        )
        with transaction.atomic():
            chunks = iter(CopyOut([cursor], [cursor.mogrify(sql, [rows]).decode()]))
            next(chunks)

            chunks.close()
            transaction.set_rollback(True)

        cursor.execute("SELECT last_value FROM copied")
        computed = cursor.fetchone()[0]

    # Without the cancel, the rollback would have waited for every row.
    assert computed < rows // 2


def test_an_error_in_copy_reaches_the_reader_and_the_connection_recovers(postgres):
    with connection.cursor() as cursor:
        copy = CopyOut(
            [cursor],
            ["COPY (SELECT 1 / 0) TO STDOUT"],
            errors=connection.wrap_database_errors,
        )
        with pytest.raises(DataError), transaction.atomic():
            list(copy)

    assert Contact.objects.count() == 0


def test_a_client_that_leaves_mid_stream_cancels_copy_and_the_export_is_incomplete(
    rf, admin_user, postgres
):
    _big_contacts(1000)
    request = rf.post(reverse("exports:contacts_csv"), {"scope": "all", "filter": ""})
    request.user = admin_user
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    response = views.contacts_csv(request)
    chunks = iter(response.streaming_content)
    next(chunks)
    next(chunks)
    assert _activity(pid)[0] == "active"

    # The server closes the response when the client hangs up; the test keeps
    # its database connection, which request_finished would otherwise close.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    state, query = _activity(pid)
    assert state != "active"
    assert not query.startswith("COPY")
    record = ExportRecord.objects.get()
    assert record.completed is False
    assert 0 < record.row_count < 1000
    assert Contact.objects.count() == 1000
