"""Bulk export from the People list: streamed, constant in queries, recorded."""

import csv
import datetime
import io

import pytest
import time_machine
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact
from exports import views
from exports.models import ExportKind, ExportRecord
from exports.writers import ContactsCsvStream
from tests.exports.factories import empty_contact, full_contact
from tests.exports.test_contact_csv import HEADER
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BULK_HEADER = [
    *HEADER,
    "Permission type",
    "Consent date",
    "Processing purpose",
    "Source type",
    "Unsubscribed",
    "Unsubscribed since",
]
EXPORTED = datetime.datetime(2026, 12, 3, 9, 30, 15, tzinfo=datetime.UTC)


def _export(client, contacts):
    url = reverse("exports:contacts_csv")
    data = {"scope": "ids", "ids": [c.pk for c in contacts]}
    with time_machine.travel(EXPORTED, tick=False):
        return client.post(url, data)


def _export_matching(client, filter_query):
    url = reverse("exports:contacts_csv")
    data = {"scope": "all", "filter": filter_query}
    with time_machine.travel(EXPORTED, tick=False):
        return client.post(url, data)


def _rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_bulk_rows_add_the_legal_basis_and_subscription_columns(admin_client):
    with time_machine.travel(datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)):
        full = full_contact()
        empty = empty_contact()

    rows = _rows(_export(admin_client, [full, empty]))

    assert rows[0] == BULK_HEADER
    assert rows[1][:2] == ["Zoë", "Müller-Łukasz"]
    assert rows[1][11] == str(full.pk)
    assert rows[1][15:] == [
        "2026-12-03T09:30:15Z",
        "Consent",
        "2026-03-01",
        "Newsletters about our product range",
        "Manual upload",
        "true",
        "2026-06-01T08:00:00Z",
    ]
    assert rows[2][4] == "nobody@example.com"
    assert rows[2][16:] == ["Not set", "", "", "Not set", "false", ""]
    assert len(rows) == 3


def test_only_the_selected_contacts_are_exported(admin_client):
    chosen, _other = ContactFactory.create_batch(2)

    rows = _rows(_export(admin_client, [chosen]))

    assert [row[11] for row in rows[1:]] == [str(chosen.pk)]


def test_all_matching_exports_the_filtered_contacts_and_records_the_filter(
    admin_client,
):
    consenting = full_contact()
    empty_contact(email="zoe.other@example.com")
    ContactFactory(first_name="Zoë", email="zoe3@example.com")
    query = "permission_type=consent&q=zoe&sort=-updated&consent_date_after=2026-01-01"

    rows = _rows(_export_matching(admin_client, query))

    assert [row[11] for row in rows[1:]] == [str(consenting.pk)]
    record = ExportRecord.objects.get()
    assert record.row_count == 1
    assert record.selection == {
        "mode": "all_matching",
        "filter": {
            "consent_date_after": ["2026-01-01"],
            "permission_type": ["consent"],
            "q": ["[redacted]"],
        },
    }


def test_asking_to_export_shows_a_confirmation_that_carries_the_selection(
    admin_client,
):
    chosen = ContactFactory.create_batch(3)
    url = reverse("exports:contacts_csv")
    ids = [c.pk for c in chosen]

    modal = admin_client.get(url, {"scope": "ids", "ids": ids}, HTTP_HX_REQUEST="true")
    page = admin_client.get(url, {"scope": "all", "filter": "source_type=import"})

    modal_html = modal.content.decode()
    assert "<dialog" in modal_html
    assert "Export 3 contacts as CSV?" in modal_html
    for pk in ids:
        assert f'name="ids" value="{pk}"' in modal_html
    assert 'method="post"' in modal_html
    page_html = page.content.decode()
    assert "<dialog" not in page_html
    assert "Export every contact matching this filter as CSV?" in page_html
    assert 'name="filter" value="source_type=import"' in page_html
    assert not ExportRecord.objects.exists()


def test_the_download_is_a_streamed_uncached_attachment(admin_client):
    response = _export(admin_client, ContactFactory.create_batch(2))

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="people-2026-12-03.csv"'
    )
    assert response["Cache-Control"] == "no-store"


def test_the_header_is_sent_before_any_contact_is_read(admin_client):
    response = _export(admin_client, ContactFactory.create_batch(3))
    chunks = iter(response.streaming_content)

    with CaptureQueriesContext(connection) as queries:
        first = next(chunks)

    assert first.decode("utf-8") == "\ufeff" + ",".join(BULK_HEADER) + "\r\n"
    assert not any("contacts_contact" in q["sql"] for q in queries.captured_queries)
    assert b"".join(chunks).count(b"\r\n") == 3


def test_the_export_is_recorded_with_the_selection_and_row_count_at_the_end(
    admin_client, admin_user
):
    response = _export(admin_client, ContactFactory.create_batch(3))
    assert not ExportRecord.objects.exists()

    b"".join(response.streaming_content)

    record = ExportRecord.objects.get()
    assert record.kind == ExportKind.BULK
    assert record.actor == admin_user
    assert record.contact is None
    assert record.selection == {"mode": "selected", "count": 3}
    assert record.row_count == 3
    assert record.completed is True
    assert record.exported_at == EXPORTED


def test_a_client_that_goes_away_leaves_an_incomplete_record(rf, admin_user):
    request = rf.post(
        reverse("exports:contacts_csv"),
        {"ids": [c.pk for c in ContactFactory.create_batch(3)]},
    )
    request.user = admin_user
    # The view itself, as a WSGI server sees it, without the test client's
    # wrapping of the stream.
    response = views.contacts_csv(request)
    next(iter(response.streaming_content))

    # The server closes the response when the client hangs up; the test keeps
    # its database connection, which request_finished would otherwise close.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    record = ExportRecord.objects.get()
    assert record.completed is False
    assert record.row_count == 0


@pytest.mark.parametrize("scope", ["ids", "all"])
def test_queries_are_the_same_for_3_and_30_contacts(admin_client, scope):
    def queries_for(count):
        Contact.objects.all().delete()
        contacts = [
            full_contact(email=f"p{i}@example.com", salesforce_id=f"003A{i:011d}")
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            if scope == "ids":
                response = _export(admin_client, contacts)
            else:
                response = _export_matching(admin_client, "permission_type=consent")
            rows = _rows(response)
        assert len(rows) == count + 1
        return len(queries.captured_queries)

    assert queries_for(3) == queries_for(30)


def test_the_python_stream_yields_one_chunk_per_batch_of_rows():
    ContactFactory.create_batch(25)
    stream = ContactsCsvStream(
        Contact.objects.order_by("id"), exported_at="x", chunk_size=10, use_copy=False
    )

    chunks = list(stream)

    assert [chunk.count(b"\r\n") for chunk in chunks] == [1, 10, 10, 5]
    assert stream.rows_written == 25


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"ids": ["x"]},
        {"ids": ["-1"]},
        {"scope": "everything"},
        {"scope": "all", "filter": "consent_date_after=not-a-date"},
    ],
)
def test_a_bad_selection_is_a_bad_request_and_exports_nothing(admin_client, data):
    url = reverse("exports:contacts_csv")

    assert admin_client.post(url, data).status_code == 400
    assert admin_client.get(url, data).status_code == 400
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize("client_fixture", ["rep_client", "outsider_client"])
def test_users_without_the_bulk_permission_are_refused(request, client_fixture):
    client = request.getfixturevalue(client_fixture)

    response = _export(client, ContactFactory.create_batch(2))

    assert response.status_code == 403
    assert not ExportRecord.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client):
    response = _export(client, ContactFactory.create_batch(1))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_python_rows_come_from_a_server_side_cursor_not_materialised(postgres):
    ContactFactory.create_batch(12)
    chunks = iter(
        ContactsCsvStream(
            Contact.objects.order_by("id"),
            exported_at="x",
            chunk_size=5,
            use_copy=False,
        )
    )
    next(chunks)

    next(chunks)
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors WHERE name LIKE '_django%'")
        open_cursors = cursor.fetchall()

    # Not WITH HOLD: PostgreSQL hands out rows as they are fetched instead of
    # computing the whole result first.
    assert open_cursors == [(False,)]
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 7


def test_the_people_list_menu_offers_export_to_admins(admin_client):
    ContactFactory()

    page = admin_client.get(reverse("contacts:people")).content.decode()

    assert f'hx-get="{reverse("exports:contacts_csv")}"' in page
    assert 'data-bulk-action="export">Export<' in page


def test_the_people_list_menu_hides_export_from_sales_reps(rep_client):
    ContactFactory()

    page = rep_client.get(reverse("contacts:people")).content.decode()

    assert reverse("exports:contacts_csv") not in page
