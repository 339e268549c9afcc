"""After erasure, a person is nowhere: not in any column of any table, nor on disk.

A person goes through every app (card, email, exports, resubscribe with an
evidence file, import, a bulk job, the Salesforce outbox) and is then erased
by a bulk Delete selected by searching their email. Every column of every
table, whatever its type (text, JSON, bytea, arrays), is then searched for
their email, names, phone and the free text typed about them, and so is
every file under MEDIA_ROOT. Only the keyed suppression hash remains.
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from contacts import selectors
from contacts.models import Contact
from tests.salesforce_sync.conftest import salesforce, standin  # noqa: F401

pytestmark = [pytest.mark.services]

EMAIL = "Ottilie.Brandvold@Fjordline.example"
FIRST, LAST = "Ottilie", "Brandvold"
PHONE = "+47 22 33 44 55"
PURPOSE = "Fjordline newsletter for Ottilie"
NOTE = "Ottilie signed in Bergen"
SUBJECT = "Fjordline offer for Brandvold"


def tables_and_columns() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type "
            "FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        )
        return cursor.fetchall()


def columns_holding(text: str) -> list[str]:
    """Return every table.column whose value contains `text`, of any type."""
    found = []
    with connection.cursor() as cursor:
        for table, column, data_type in tables_and_columns():
            # bytea reads as hex through ::text; decode it as the bytes it holds.
            value = (
                f"encode(\"{column}\", 'escape')"
                if data_type == "bytea"
                else f'"{column}"::text'
            )
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE {value} ILIKE %s',  # noqa: S608
                [f"%{text}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def files_holding(root: Path, text: str) -> list[str]:
    needle = text.lower().encode()
    return [
        str(path)
        for path in root.rglob("*")
        if path.is_file()
        and (needle in path.read_bytes().lower() or text.lower() in path.name.lower())
    ]


def _everything_about_the_person(client, rep, admin, standin_server):
    client.force_login(rep)
    client.post(
        reverse("contacts:person_create"),
        {"email": EMAIL, "first_name": FIRST, "last_name": LAST, "phone_number": PHONE},
    )
    contact = Contact.objects.get()
    client.post(
        reverse("compliance:card_edit", args=[contact.pk]),
        {
            "permission_type": "consent",
            "consent_date": "2025-05-01",
            "processing_purpose": PURPOSE,
            "source_type": "other",
            "source_type_description": f"Fair stand, {LAST}",
            "compliance_version": contact.compliance_version,
        },
    )
    client.post(
        reverse("unsubscribes:send_email", args=[contact.pk]),
        {"subject": SUBJECT, "body": f"Dear {FIRST}"},
    )
    client.post(
        reverse("compliance_bulk:source"),
        {
            "scope": "all",
            "filter": f"q={EMAIL}",
            "step": "apply",
            "source_type": "import",
        },
    )
    csv = f"email,title\n{EMAIL},Skipper {LAST}\n".encode()
    preview = client.post(
        reverse("contacts:people_import"), {"file": SimpleUploadedFile("p.csv", csv)}
    )
    client.post(
        reverse("contacts:people_import_confirm"), {"token": preview.context["token"]}
    )
    client.get(reverse("exports:contact_csv", args=[contact.pk]))
    client.post(reverse("unsubscribes:person_unsubscribe", args=[contact.pk]))

    client.force_login(admin)
    client.post(
        reverse("unsubscribes:resubscribe", args=[contact.pk]),
        {
            "consent_date": timezone.localdate().isoformat(),
            "processing_purpose": PURPOSE,
            "consent_obtained": NOTE,
            "evidence_note": NOTE,
            "evidence_file": SimpleUploadedFile(
                f"{FIRST}.txt", f"I, {FIRST} {LAST}, agree.".encode()
            ),
        },
    )
    client.get(reverse("exports:access_bundle", args=[contact.pk]))
    streamed = client.post(
        reverse("exports:contacts_csv"), {"scope": "all", "filter": f"q={EMAIL}"}
    )
    b"".join(streamed.streaming_content)
    contact.refresh_from_db()
    contact.salesforce_id = standin_server.store.add_contact(Email=EMAIL, LastName=LAST)
    contact.save(update_fields=["salesforce_id"])
    client.post(reverse("unsubscribes:person_unsubscribe", args=[contact.pk]))
    return contact


def test_after_erasure_the_person_is_in_no_column_of_any_table_and_no_file(
    postgres,
    transactional_db,
    client,
    sales_rep,
    admin_user,
    salesforce,  # noqa: F811
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path
    settings.UNSUBSCRIBE_RATE_LIMIT = "1000/m"
    _everything_about_the_person(client, sales_rep, admin_user, salesforce)
    texts = [EMAIL, FIRST, LAST, PHONE, PURPOSE, NOTE, SUBJECT]
    assert "contacts_contact.email" in columns_holding(EMAIL)
    assert files_holding(tmp_path, LAST), "the evidence file was stored"
    assert len(tables_and_columns()) > 100

    client.force_login(sales_rep)
    client.post(
        reverse("contacts:bulk_delete"),
        {"scope": "all", "filter": f"q={EMAIL}", "step": "apply"},
    )

    assert not Contact.objects.exists()
    left = {
        text: columns_holding(text) + files_holding(tmp_path, text) for text in texts
    }
    assert [place for places in left.values() for place in places] == [], left
    assert selectors.is_suppressed(EMAIL)
