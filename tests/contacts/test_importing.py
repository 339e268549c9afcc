"""Importing contacts from CSV and XLSX: preview, confirm, errors, scale."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from compliance.models import ComplianceChange
from contacts import importing
from contacts.choices import SourceType
from contacts.erasure import contacts_erase
from contacts.models import BulkJob, Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("contacts:people_import")
CONFIRM = reverse("contacts:people_import_confirm")
HEADER = "email,first_name,last_name,company\n"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def csv_file(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def xlsx_file(rows: list[list]) -> SimpleUploadedFile:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("people.xlsx", buffer.getvalue())


def preview(client, upload):
    response = client.post(IMPORT, {"file": upload})
    assert response.status_code == 200
    return response


def confirm(client, response, **extra):
    return client.post(
        CONFIRM,
        {"token": response.context["token"], "action": "import", **extra},
        follow=True,
    )


def stored_files(private_media) -> list:
    folder = private_media / "imports"
    return list(folder.iterdir()) if folder.exists() else []


def test_the_people_page_links_to_the_import_for_sales_reps(rep_client):
    assert IMPORT in rep_client.get(reverse("contacts:people")).content.decode()


def test_users_without_the_import_permission_are_refused(outsider_client):
    assert outsider_client.get(IMPORT).status_code == 403
    assert outsider_client.post(CONFIRM, {"token": "x"}).status_code == 403


def test_the_preview_counts_rows_and_writes_nothing(rep_client):
    ContactFactory(email="Known@Example.com", first_name="Old")

    response = preview(
        rep_client,
        csv_file(
            HEADER + "new@example.com,Ann,Lee,Acme\nknown@example.com,New,Name,\n"
        ),
    )

    summary = response.context["summary"]
    assert (summary.rows, summary.new, summary.updated) == (2, 1, 1)
    assert summary.can_import
    assert "Confirm import" in response.content.decode()
    assert Contact.objects.count() == 1
    assert Contact.objects.get().first_name == "Old"


def test_invalid_rows_are_listed_by_line_and_block_the_import(
    rep_client, private_media
):
    text = HEADER + (
        "good@example.com,A,B,C\n"
        "not-an-email,A,B,C\n"
        "good@example.com,again,B,C\n"
        ",no,email,here\n"
    )

    response = preview(rep_client, csv_file(text))

    summary = response.context["summary"]
    html = response.content.decode()
    assert summary.invalid == 3
    assert [error.row for error in summary.errors] == [3, 4, 5]
    assert "Enter a valid email address." in html
    assert "appears on an earlier row" in html
    assert "This field cannot be blank." in html
    assert "Confirm import" not in html
    assert not Contact.objects.exists()


def test_confirming_imports_new_people_as_import_and_updates_existing_ones(
    rep_client, sales_rep
):
    existing = ContactFactory(
        email="Known@Example.com",
        first_name="Old",
        source_type=SourceType.CRM_SYNC,
    )
    response = preview(
        rep_client,
        csv_file(
            HEADER + "new@example.com,Ann,Lee,Acme\nKNOWN@example.com,New,Name,\n"
        ),
    )

    done = confirm(rep_client, response)

    assert "Import finished: 1 added, 1 updated, 0 refused." in done.content.decode()
    new = Contact.objects.get(email="new@example.com")
    assert (new.first_name, new.company, new.source_type) == ("Ann", "Acme", "import")
    assert list(
        ComplianceChange.objects.filter(contact=new).values_list(
            "channel", "field", "new_value", "actor"
        )
    ) == [("import", "source_type", "import", sales_rep.pk)]
    existing.refresh_from_db()
    assert (existing.first_name, existing.last_name) == ("New", "Name")
    assert existing.email == "Known@Example.com"
    assert existing.source_type == SourceType.CRM_SYNC
    assert not ComplianceChange.objects.filter(contact=existing).exists()


def test_an_erased_person_is_refused_on_reimport(rep_client, sales_rep, private_media):
    gone = ContactFactory(email="gone@example.com")
    contacts_erase(contact_ids=[gone.pk], channel="bulk", actor=sales_rep)

    response = preview(
        rep_client, csv_file(HEADER + " Gone@Example.com ,G,O,N\nok@example.com,O,K,\n")
    )
    summary = response.context["summary"]
    assert (summary.refused, summary.invalid, summary.new) == (1, 0, 1)
    assert "cannot be imported again" in response.content.decode()
    assert summary.errors[0].refused

    confirm(rep_client, response)

    assert list(Contact.objects.values_list("email", flat=True)) == ["ok@example.com"]
    assert stored_files(private_media) == []


def test_an_xlsx_file_imports_like_a_csv(rep_client):
    upload = xlsx_file(
        [
            ["Email", "First_name", "Phone_number", "Unknown column"],
            ["x@example.com", "Xia", 4930123456, "ignored"],
            [None, None, None, None],
        ]
    )

    response = preview(rep_client, upload)
    assert response.context["summary"].rows == 1
    confirm(rep_client, response)

    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.phone_number) == (
        "x@example.com",
        "Xia",
        "4930123456",
    )


def test_an_oversized_upload_is_refused_with_a_clear_message(rep_client, settings):
    settings.MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    big = csv_file(HEADER + "a@example.com,A,B,C\n" * 120_000)

    response = rep_client.post(IMPORT, {"file": big})

    assert "This file is larger than 2 MB." in response.content.decode()
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (csv_file("name,company\nA,B\n"), "needs an \u201cemail\u201d column"),
        (csv_file(""), "The submitted file is empty."),
        (csv_file("\n\n"), "The file is empty."),
        (SimpleUploadedFile("people.csv", b"email\n\xff\xfe\xfa@x.eu\n"), "UTF-8"),
        (SimpleUploadedFile("people.xlsx", b"not a workbook"), "cannot be read"),
        (
            csv_file("email\na@x.eu\n", name="people.txt"),
            "Upload a .csv or .xlsx file.",
        ),
    ],
)
def test_an_unreadable_file_is_a_form_error_not_a_failure(rep_client, upload, message):
    response = rep_client.post(IMPORT, {"file": upload})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Contact.objects.exists()


def test_a_forged_or_foreign_preview_token_imports_nothing(
    rep_client, client, admin_user
):
    response = preview(rep_client, csv_file(HEADER + "a@example.com,A,B,C\n"))
    token = response.context["token"]

    forged = rep_client.post(CONFIRM, {"token": token + "x"}, follow=True)
    client.force_login(admin_user)
    foreign = client.post(CONFIRM, {"token": token}, follow=True)

    assert "This preview has expired." in forged.content.decode()
    assert "This preview has expired." in foreign.content.decode()
    assert not Contact.objects.exists()


def test_cancelling_a_preview_discards_the_file(rep_client, private_media):
    response = preview(rep_client, csv_file(HEADER + "a@example.com,A,B,C\n"))
    assert len(stored_files(private_media)) == 1

    rep_client.post(CONFIRM, {"token": response.context["token"], "action": "cancel"})

    assert stored_files(private_media) == []
    assert not Contact.objects.exists()


@pytest.mark.services
def test_an_import_costs_the_same_queries_for_30_and_300_rows(postgres, rep_client):
    # On PostgreSQL: SQLite caps a statement at 999 parameters, so Django
    # splits a bulk INSERT of wide rows every 39 contacts there.
    counts = []
    for size, prefix in ((30, "small"), (300, "large")):
        rows = "".join(f"{prefix}{i}@example.com,F,L,C\n" for i in range(size))
        response = preview(rep_client, csv_file(HEADER + rows))
        with CaptureQueriesContext(connection) as queries:
            confirm(rep_client, response)
        counts.append(len(queries))
        assert Contact.objects.filter(email__startswith=prefix).count() == size

    assert counts[0] == counts[1]


def test_a_large_file_imports_in_chunks_without_holding_every_row(
    rep_client, monkeypatch, sales_rep, private_media
):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 7)
    chunk_sizes = []
    real_import_data = importing.ContactResource.import_data

    def spy(self, dataset, **kwargs):
        chunk_sizes.append(len(dataset))
        return real_import_data(self, dataset, **kwargs)

    monkeypatch.setattr(importing.ContactResource, "import_data", spy)
    rows = "".join(f"p{i}@example.com,F,L,C\n" for i in range(30))
    response = preview(rep_client, csv_file(HEADER + rows))
    chunk_sizes.clear()

    confirm(rep_client, response)

    assert chunk_sizes == [7, 7, 7, 7, 2]
    job = BulkJob.objects.get(kind="import")
    assert (job.state, job.done, job.total) == ("done", 30, 30)
    assert job.params == {
        "result": {"rows": 30, "new": 30, "updated": 0, "refused": 0, "invalid": 0}
    }
    assert Contact.objects.count() == 30


def test_an_interrupted_import_resumes_after_its_committed_chunks(
    sales_rep, monkeypatch, private_media
):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 4)
    upload = csv_file(HEADER + "".join(f"r{i}@example.com,F,L,C\n" for i in range(10)))
    name, file_format = importing.import_file_store(upload=upload)
    job = importing.import_job_create(
        name=name, file_format=file_format, rows=10, actor=sales_rep
    )
    # The first chunk was committed before the worker was lost.
    BulkJob.objects.filter(pk=job.pk).update(done=4)

    importing.import_job_run(job_id=job.pk)

    emails = set(Contact.objects.values_list("email", flat=True))
    assert emails == {f"r{i}@example.com" for i in range(4, 10)}


def test_the_django_admin_imports_through_the_same_resource(admin_client):
    ContactFactory(email="known@example.com", source_type=SourceType.CRM_SYNC)
    url = reverse("admin:contacts_contact_import")
    upload = csv_file(HEADER + "new@example.com,Ann,Lee,Acme\nKnown@example.com,K,,\n")

    dry_run = admin_client.post(
        url, {"import_file": upload, "format": "0", "resource": "0"}
    )
    assert dry_run.status_code == 200
    assert not Contact.objects.filter(email="new@example.com").exists()
    form = dry_run.context["confirm_form"]
    assert form is not None
    admin_client.post(reverse("admin:contacts_contact_process_import"), form.initial)

    new = Contact.objects.get(email="new@example.com")
    assert new.source_type == SourceType.IMPORT
    assert Contact.objects.get(email="known@example.com").source_type == "crm_sync"
    assert Contact.objects.get(email="known@example.com").first_name == "K"


@pytest.mark.parametrize("name", ["", "../kept.csv", "imports", "AB" * 16 + ".csv"])
@pytest.mark.parametrize("action", ["cancel", "import"])
def test_a_signed_preview_naming_a_file_the_app_did_not_store_is_refused(
    rep_client, sales_rep, private_media, name, action
):
    from django.core import signing

    from contacts.views import IMPORT_PREVIEW_SALT

    kept = private_media / "kept.csv"
    kept.write_text("email\nkept@example.com\n")
    # Only someone holding SECRET_KEY could sign this.
    token = signing.dumps(
        {"file": name, "format": "csv", "rows": 1, "ok": True, "user": sales_rep.pk},
        salt=IMPORT_PREVIEW_SALT,
    )

    response = rep_client.post(CONFIRM, {"token": token, "action": action}, follow=True)

    assert "This preview has expired." in response.content.decode()
    assert kept.exists()
    assert not BulkJob.objects.exists()
