"""A contact's CSV, from Person Details' "⋮" menu."""

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse

from exports.models import ExportKind, ExportRecord
from tests.exports.factories import empty_contact, full_contact

pytestmark = pytest.mark.django_db

HEADER = [
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
]
CREATED = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC)
EXPORTED = datetime.datetime(2026, 12, 3, 9, 30, 15, tzinfo=datetime.UTC)


def _rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def _export(client, contact):
    with time_machine.travel(EXPORTED, tick=False):
        return client.get(reverse("exports:contact_csv", args=[contact.pk]))


def test_a_contact_with_every_field_exports_exactly_the_issue_columns(rep_client):
    with time_machine.travel(CREATED, tick=False):
        contact = full_contact()

    response = _export(rep_client, contact)

    assert _rows(response) == [
        HEADER,
        [
            "Zoë",
            "Müller-Łukasz",
            'Ærø Trading, "Ltd"',
            "Head of Sales\nEMEA",
            "zoe.muller@example.com",
            "'+44 20 7946 0958",
            "https://aero.example.com/",
            "'=1+1",
            "2026-01-02T03:04:05Z",
            "2026-01-02T03:04:05Z",
            "003A000001abcDEF",
            str(contact.pk),
            "https://facebook.com/zoe",
            "'@zoe",
            "https://linkedin.com/in/zoe",
            "2026-12-03T09:30:15Z",
        ],
    ]


def test_a_contact_with_empty_fields_exports_empty_cells(rep_client):
    with time_machine.travel(CREATED, tick=False):
        contact = empty_contact()

    response = _export(rep_client, contact)

    assert _rows(response)[1] == [
        "",
        "",
        "",
        "",
        "nobody@example.com",
        "",
        "",
        "",
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05Z",
        "",
        str(contact.pk),
        "",
        "",
        "",
        "2026-12-03T09:30:15Z",
    ]


def test_the_download_names_the_contact_and_date_and_is_never_cached(rep_client):
    contact = empty_contact()

    response = _export(rep_client, contact)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="person-{contact.pk}-2026-12-03.csv"'
    )
    assert response["Cache-Control"] == "no-store"


def test_each_export_is_recorded_with_who_which_contact_and_when(rep_client, sales_rep):
    contact = empty_contact()

    _export(rep_client, contact)

    record = ExportRecord.objects.get()
    assert record.kind == ExportKind.SINGLE
    assert record.actor == sales_rep
    assert record.actor_name == "rep"
    assert record.contact == contact
    assert record.row_count == 1
    assert record.exported_at == EXPORTED
    assert record.selection == {}


def test_an_admin_can_export_a_contact(admin_client):
    response = _export(admin_client, empty_contact())

    assert response.status_code == 200


def test_a_user_without_a_role_is_refused_and_nothing_is_recorded(outsider_client):
    response = _export(outsider_client, empty_contact())

    assert response.status_code == 403
    assert not ExportRecord.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client):
    contact = empty_contact()

    response = client.get(reverse("exports:contact_csv", args=[contact.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_contact_is_a_404(rep_client):
    response = rep_client.get(reverse("exports:contact_csv", args=[999_999]))

    assert response.status_code == 404


def test_person_details_offers_export_in_its_menu(rep_client):
    contact = empty_contact()

    page = rep_client.get(contact.get_absolute_url()).content.decode()

    assert reverse("exports:contact_csv", args=[contact.pk]) in page
    assert ">Export<" in page
    assert reverse("exports:access_bundle", args=[contact.pk]) not in page
