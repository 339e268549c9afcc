"""Previewing a large import file as a job: progress, preview, confirm, access."""

import io
import logging
import time

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from compliance.models import ComplianceChange
from contacts import import_preview, importing, tasks
from contacts.choices import SourceType
from contacts.erasure import contacts_erase
from contacts.models import BulkJob, Contact, Suppression
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("contacts:people_import")
CONFIRM = reverse("contacts:people_import_confirm")
PEOPLE = reverse("contacts:people")
HEADER = "email,first_name,last_name,company\n"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def large(settings, monkeypatch):
    """Make a file of more than 5 rows large, read 4 rows at a time."""
    settings.BULK_TASK_THRESHOLD = 5
    monkeypatch.setattr(importing, "CHUNK_ROWS", 4)


def csv_file(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def rows(count: int, prefix: str = "p") -> str:
    return "".join(f"{prefix}{i}@example.com,F,L,C\n" for i in range(count))


def stored_files(private_media) -> list:
    folder = private_media / "imports"
    return list(folder.iterdir()) if folder.exists() else []


def job_url(job: BulkJob) -> str:
    return reverse("contacts:bulk_job", args=[job.pk])


def upload_large(client, text: str) -> BulkJob:
    """Upload a file the People page previews as a job; return the job."""
    response = client.post(IMPORT, {"file": csv_file(text)})
    job = BulkJob.objects.filter(kind=import_preview.KIND).latest("pk")
    assert response.status_code == 302
    assert response["Location"] == job_url(job)
    return job


def run_preview(job: BulkJob) -> BulkJob:
    return import_preview.import_preview_job_run(job_id=job.pk)


def sweep(monkeypatch, task) -> list[int]:
    """Run the stalled-job sweep; return the job ids it queued on `task`."""
    queued: list[int] = []
    monkeypatch.setattr(task, "delay", queued.append)
    tasks.bulk_jobs_sweep(stalled_minutes=0)
    return queued


def test_a_small_file_is_still_previewed_in_the_request(rep_client, large):
    response = rep_client.post(IMPORT, {"file": csv_file(HEADER + rows(5))})

    assert response.status_code == 200
    assert response.context["summary"].new == 5
    assert "Confirm import" in response.content.decode()
    assert not BulkJob.objects.exists()


def test_a_large_file_is_previewed_by_a_job_that_shows_its_progress(rep_client, large):
    job = upload_large(rep_client, HEADER + rows(11))

    waiting = rep_client.get(job_url(job)).content.decode()
    BulkJob.objects.filter(pk=job.pk).update(state="running", done=4)
    running = rep_client.get(job_url(job), headers=HTMX).content.decode()

    assert (job.state, job.total, job.done) == ("pending", 11, 0)
    assert "0 of about 11 rows checked" in waiting
    assert 'hx-trigger="every 1s"' in waiting
    assert "Confirm import" not in waiting
    assert "4 of about 11 rows checked" in running
    assert 'value="36"' in running
    assert job_url(job) in rep_client.get(PEOPLE).content.decode()


def test_a_finished_preview_job_shows_the_preview_and_the_confirm_button(
    rep_client, large
):
    ContactFactory(email="Known@Example.com")
    job = upload_large(rep_client, HEADER + rows(10) + "known@example.com,K,,\n")

    job = run_preview(job)
    page = rep_client.get(job_url(job), headers=HTMX).content.decode()

    assert (job.state, job.done, job.total) == ("done", 11, 11)
    assert "11 rows: 10 new, 1 to update, 0 refused, 0 with errors." in page
    assert "Confirm import" in page
    assert "hx-trigger" not in page
    assert "import preview ready to confirm" in rep_client.get(PEOPLE).content.decode()


def test_a_preview_job_lists_row_errors_by_line_and_offers_no_import(
    rep_client, large, sales_rep
):
    gone = ContactFactory(email="gone@example.com")
    contacts_erase(contact_ids=[gone.pk], channel="bulk", actor=sales_rep)
    text = HEADER + rows(3) + "not-an-email,A,B,C\n" + rows(3, "q")
    # Line 9 repeats line 3, an email of an earlier chunk.
    text += "p1@example.com,again,B,C\ngone@example.com,G,O,N\n"
    job = upload_large(rep_client, text)

    run_preview(job)
    response = rep_client.get(job_url(job))
    html = response.content.decode()

    summary = response.context["summary"]
    assert (summary.rows, summary.new, summary.invalid, summary.refused) == (
        9,
        6,
        2,
        1,
    )
    assert [(error.row, error.refused) for error in summary.errors] == [
        (5, False),
        (9, False),
        (10, True),
    ]
    assert "email: Enter a valid email address." in html
    assert "appears on an earlier row" in html
    assert "cannot be imported again" in html
    assert "Confirm import" not in html
    assert "Fix the rows with errors" in html


def test_only_the_first_row_errors_are_kept_and_the_page_says_so(
    rep_client, large, monkeypatch
):
    monkeypatch.setattr(importing, "MAX_REPORTED_ERRORS", 3)
    job = upload_large(rep_client, HEADER + "bad,A,B,C\n" * 7)

    run_preview(job)
    response = rep_client.get(job_url(job))

    assert response.context["summary"].invalid == 7
    assert len(job_params_errors(job)) == 3
    assert "Only the first 3 problems are listed." in response.content.decode()


def job_params_errors(job: BulkJob) -> list:
    job.refresh_from_db()
    return job.params["summary"]["errors"]


def test_a_forged_import_of_a_preview_with_errors_imports_nothing(rep_client, large):
    job = upload_large(rep_client, HEADER + rows(6) + "bad,A,B,C\n")
    run_preview(job)
    token = rep_client.get(job_url(job)).context["token"]

    response = rep_client.post(
        CONFIRM, {"token": token, "action": "import"}, follow=True
    )

    assert "This preview has expired." in response.content.decode()
    assert BulkJob.objects.filter(kind=importing.KIND).count() == 0
    assert not Contact.objects.exists()


def test_confirming_a_job_preview_imports_the_file_once(rep_client, large):
    job = upload_large(rep_client, HEADER + rows(11))
    run_preview(job)
    token = rep_client.get(job_url(job)).context["token"]

    started = rep_client.post(CONFIRM, {"token": token, "action": "import"})
    imported = BulkJob.objects.get(kind=importing.KIND)
    importing.import_job_run(job_id=imported.pk)
    replayed = rep_client.post(
        CONFIRM, {"token": token, "action": "import"}, follow=True
    )

    assert started["Location"] == job_url(imported)
    assert "Import finished: 11 added, 0 updated, 0 refused." in (
        rep_client.get(job_url(imported)).content.decode()
    )
    assert Contact.objects.filter(source_type=SourceType.IMPORT).count() == 11
    assert "This preview has expired." in replayed.content.decode()
    assert BulkJob.objects.filter(kind=importing.KIND).count() == 1
    page = rep_client.get(job_url(job)).content.decode()
    assert "This preview was confirmed or cancelled." in page
    assert "Confirm import" not in page


def test_cancelling_a_job_preview_discards_its_file(rep_client, large, private_media):
    job = upload_large(rep_client, HEADER + rows(8))
    run_preview(job)
    token = rep_client.get(job_url(job)).context["token"]

    response = rep_client.post(
        CONFIRM, {"token": token, "action": "cancel"}, follow=True
    )

    assert "Import cancelled." in response.content.decode()
    assert stored_files(private_media) == []
    assert not Contact.objects.exists()
    assert "import preview" not in rep_client.get(PEOPLE).content.decode()


def test_a_preview_job_writes_nothing_to_contacts(rep_client, large, sales_rep):
    ContactFactory(email="known@example.com", first_name="Old")
    erased = ContactFactory(email="gone@example.com")
    contacts_erase(contact_ids=[erased.pk], channel="bulk", actor=sales_rep)
    before = (
        Contact.objects.count(),
        ComplianceChange.objects.count(),
        Suppression.objects.count(),
    )
    text = HEADER + rows(8) + "known@example.com,New,,\ngone@example.com,G,,\n"
    job = upload_large(rep_client, text)

    job = run_preview(job)

    assert job.state == "done"
    assert (
        Contact.objects.count(),
        ComplianceChange.objects.count(),
        Suppression.objects.count(),
    ) == before
    assert Contact.objects.get(email="known@example.com").first_name == "Old"


def test_an_interrupted_preview_resumes_and_still_finds_duplicates(
    rep_client, large, monkeypatch
):
    text = HEADER + rows(6) + "p1@example.com,again,,\n" + rows(3, "q")
    job = upload_large(rep_client, text)
    real_import_data = importing.ContactResource.import_data
    checked = []

    def lose_the_database_on_the_second_chunk(self, dataset, **kwargs):
        checked.append(len(dataset))
        if len(checked) == 2:
            raise OperationalError("connection lost")
        return real_import_data(self, dataset, **kwargs)

    monkeypatch.setattr(
        importing.ContactResource, "import_data", lose_the_database_on_the_second_chunk
    )
    with pytest.raises(OperationalError):
        run_preview(job)
    job.refresh_from_db()
    assert (job.state, job.done) == ("running", 4)

    job = run_preview(job)

    summary = import_preview.import_preview_summary(job)
    assert checked == [4, 4, 4, 2]
    assert (job.state, summary.rows, summary.new, summary.invalid) == (
        "done",
        10,
        9,
        1,
    )
    assert [error.row for error in summary.errors] == [8]


def test_a_file_without_an_email_column_fails_the_preview_with_the_reason(
    rep_client, large, private_media
):
    job = upload_large(rep_client, "name,company\n" + "A,B\n" * 8)

    job = run_preview(job)
    page = rep_client.get(job_url(job)).content.decode()

    assert job.state == "failed"
    assert "The file needs an \u201cemail\u201d column." in page
    assert stored_files(private_media) == []


def test_a_failing_preview_shows_a_plain_message_and_logs_no_personal_data(
    rep_client, large, monkeypatch, caplog, private_media
):
    job = upload_large(rep_client, HEADER + rows(8))

    def fail(self, dataset, **kwargs):
        raise RuntimeError("secret p0@example.com")

    monkeypatch.setattr(importing.ContactResource, "import_data", fail)
    tasks.import_preview_job_run.apply(args=[job.pk])
    job.refresh_from_db()
    page = rep_client.get(job_url(job)).content.decode()

    assert job.state == "failed"
    assert "The preview stopped before the end of the file." in page
    assert "secret" not in page
    assert job.params == {}
    assert stored_files(private_media) == []
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"Import preview job {job.pk} failed" in m for m in messages)
    assert not any("@" in message for message in messages)


def test_a_successful_preview_logs_counts_and_no_personal_data(
    rep_client, large, caplog
):
    job = upload_large(rep_client, HEADER + rows(6) + "bad@,A,B,C\n")

    with caplog.at_level(logging.INFO, logger="contacts"):
        run_preview(job)

    messages = [record.getMessage() for record in caplog.records]
    assert f"Import preview job {job.pk} done: 7 rows, 1 invalid, 0 refused" in (
        messages
    )
    assert not any("@" in message for message in messages)
    assert "@" not in str(BulkJob.objects.get(pk=job.pk).params)


def test_someone_elses_preview_job_is_not_found_and_outsiders_are_refused(
    rep_client, large, sales_rep, outsider
):
    job = upload_large(rep_client, HEADER + rows(8))
    run_preview(job)
    other = User.objects.create_user("other-rep", password="x-password-1")
    other.groups.set(sales_rep.groups.all())
    other_client, outsider_client = Client(), Client()
    other_client.force_login(other)
    outsider_client.force_login(outsider)

    assert other_client.get(job_url(job)).status_code == 404
    assert outsider_client.get(job_url(job)).status_code == 403


def test_an_admin_sees_a_reps_preview_but_only_the_rep_confirms_it(
    rep_client, large, admin_user
):
    job = upload_large(rep_client, HEADER + rows(8))
    run_preview(job)
    admin = Client()
    admin.force_login(admin_user)

    response = admin.get(job_url(job))

    html = response.content.decode()
    assert response.status_code == 200
    assert "8 rows: 8 new" in html
    assert "Confirm import" not in html
    assert "Only the person who uploaded the file can confirm" in html
    assert (
        import_preview.import_preview_job_confirm(job_id=job.pk, actor=admin_user)
        is None
    )


@pytest.mark.services
def test_a_preview_job_costs_the_same_queries_per_chunk_at_two_sizes(
    postgres, rep_client, sales_rep, settings, monkeypatch
):
    settings.BULK_TASK_THRESHOLD = 5
    ContactFactory(email="small3@example.com")
    ContactFactory(email="large3@example.com")
    counts = {}
    for chunk_rows, size, prefix in ((10, 30, "small"), (100, 300, "large")):
        monkeypatch.setattr(importing, "CHUNK_ROWS", chunk_rows)
        job = upload_large(rep_client, HEADER + rows(size, prefix))
        with CaptureQueriesContext(connection) as queries:
            job = run_preview(job)
        assert import_preview.import_preview_summary(job).updated == 1
        counts[size] = statements(queries)

    # Three chunks each: the same statements whether a chunk holds 10 or 100 rows.
    assert counts[30] == counts[300]
    monkeypatch.setattr(importing, "CHUNK_ROWS", 10)
    job = upload_large(rep_client, HEADER + rows(60, "six"))
    with CaptureQueriesContext(connection) as queries:
        run_preview(job)
    # Per chunk: the chunk's contacts, its suppressions, the progress UPDATE.
    assert statements(queries) - counts[30] == 3 * 3


def statements(queries: CaptureQueriesContext) -> int:
    """Count the statements that do work, leaving out the savepoints that
    django-import-export's dry run opens and rolls back around each chunk."""
    return sum(
        not query["sql"].startswith(("SAVEPOINT", "RELEASE ", "ROLLBACK TO "))
        for query in queries.captured_queries
    )


def test_the_row_estimate_counts_csv_lines_and_reads_an_xlsx_dimension(
    private_media, sales_rep
):
    def estimate(upload):
        name, file_format = importing.import_file_store(upload=upload)
        return import_preview.import_rows_estimate(name=name, file_format=file_format)

    workbook = Workbook()
    for row in [["email"], ["a@x.eu"], ["b@x.eu"], ["c@x.eu"]]:
        workbook.active.append(row)
    declared = io.BytesIO()
    workbook.save(declared)
    streamed = Workbook(write_only=True)
    sheet = streamed.create_sheet()
    sheet.append(["email"])
    undeclared = io.BytesIO()
    streamed.save(undeclared)

    assert estimate(csv_file(HEADER + rows(3))) == 3
    assert estimate(csv_file((HEADER + rows(3)).rstrip("\n"))) == 3
    assert estimate(csv_file((HEADER + rows(3)).replace("\n", "\r"))) == 3
    assert estimate(SimpleUploadedFile("p.xlsx", declared.getvalue())) == 3
    assert estimate(SimpleUploadedFile("p.xlsx", undeclared.getvalue())) is None
    with pytest.raises(importing.ImportFileError):
        estimate(SimpleUploadedFile("p.xlsx", b"not a workbook"))


def test_an_xlsx_file_that_declares_no_size_is_previewed_by_a_job(rep_client):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["email"])
    sheet.append(["x@example.com"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = rep_client.post(
        IMPORT, {"file": SimpleUploadedFile("people.xlsx", buffer.getvalue())}
    )
    job = BulkJob.objects.get(kind=import_preview.KIND)
    waiting = rep_client.get(job_url(job)).content.decode()
    job = run_preview(job)

    assert response["Location"] == job_url(job)
    assert "0 rows checked" in waiting
    assert (job.state, job.total) == ("done", 1)
    assert import_preview.import_preview_summary(job).new == 1


def test_the_django_admin_refuses_a_file_above_the_upload_limit_plainly(
    admin_client, settings
):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    big = csv_file(HEADER + rows(60_000))

    response = admin_client.post(
        reverse("admin:contacts_contact_import"),
        {"import_file": big, "format": "0", "resource": "0"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "This file is larger than 1 MB." in html
    assert "People page (Import)" in html
    assert not Contact.objects.exists()


def test_the_django_admin_says_an_unreadable_file_plainly(admin_client):
    response = admin_client.post(
        reverse("admin:contacts_contact_import"),
        {
            "import_file": SimpleUploadedFile("p.xlsx", b"not a workbook"),
            "format": "1",
            "resource": "0",
        },
    )

    assert "This file cannot be read as CSV or XLSX." in response.content.decode()
    assert "encountered while trying" not in response.content.decode()


@pytest.mark.services
def test_a_large_file_is_previewed_and_imported_by_the_worker(
    celery_worker, client, settings, monkeypatch
):
    from accounts.roles import SALES_REP
    from accounts.services import user_create

    settings.BULK_TASK_THRESHOLD = 5
    monkeypatch.setattr(importing, "CHUNK_ROWS", 4)
    rep = user_create(username="preview-rep", password="rep-password-1", role=SALES_REP)
    client.force_login(rep)
    ContactFactory(email="known@example.com", source_type=SourceType.CRM_SYNC)

    # Another session locks the suppression table, so the worker stops at the
    # first chunk's lookup and the page can be seen while the job runs.
    locker = connections.create_connection(DEFAULT_DB_ALIAS)
    locker.set_autocommit(False)
    locker.cursor().execute("LOCK TABLE contacts_suppression IN ACCESS EXCLUSIVE MODE")
    try:
        job = upload_large(client, HEADER + rows(10, "w") + "known@example.com,K,,\n")
        for _ in range(100):
            job.refresh_from_db()
            if job.state == "running":
                break
            time.sleep(0.1)
        running = client.get(job_url(job), headers=HTMX).content.decode()
    finally:
        locker.rollback()
        locker.close()
    for _ in range(100):
        partial = client.get(job_url(job), headers=HTMX).content.decode()
        if "hx-trigger" not in partial:
            break
        time.sleep(0.1)
    token = client.get(job_url(job)).context["token"]
    started = client.post(CONFIRM, {"token": token, "action": "import"})
    imported = BulkJob.objects.get(kind=importing.KIND)
    for _ in range(100):
        imported.refresh_from_db()
        if imported.is_finished:
            break
        time.sleep(0.1)

    assert 'hx-trigger="every 1s"' in running
    assert "0 of about 11 rows checked · Running" in running
    assert "11 rows: 10 new, 1 to update, 0 refused, 0 with errors." in partial
    assert "Confirm import" in partial
    assert started["Location"] == job_url(imported)
    assert (imported.state, imported.done) == ("done", 11)
    assert "Import finished: 10 added, 1 updated, 0 refused." in (
        client.get(job_url(imported)).content.decode()
    )
    assert Contact.objects.filter(source_type="import").count() == 10
    assert Contact.objects.get(email="known@example.com").first_name == "K"


def _confirmed_import(rep_client, count: int) -> BulkJob:
    """Preview a large file, confirm it, and return its import job, not yet run."""
    preview = upload_large(rep_client, HEADER + rows(count))
    run_preview(preview)
    token = rep_client.get(job_url(preview)).context["token"]
    rep_client.post(CONFIRM, {"token": token, "action": "import"})
    return BulkJob.objects.get(kind=importing.KIND)


def test_two_runs_of_one_import_take_turns_and_import_each_row_once(
    rep_client, large, monkeypatch
):
    job = _confirmed_import(rep_client, 11)
    read_chunks = importing.read_chunks
    second_run = []

    def chunks_with_a_second_run(path, file_format):
        for index, chunk in enumerate(read_chunks(path, file_format)):
            if index == 1 and not second_run:
                # The sweep's second run goes all the way while the first one
                # sits between its first and second chunk.
                second_run.append("started")
                second_run.append(importing.import_job_run(job_id=job.pk))
            yield chunk

    monkeypatch.setattr(importing, "read_chunks", chunks_with_a_second_run)
    importing.import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert second_run[1].state == BulkJob.State.DONE
    assert (job.state, job.done, job.total, job.changed) == (
        BulkJob.State.DONE,
        11,
        11,
        11,
    )
    assert Contact.objects.count() == 11
    assert "Import finished: 11 added, 0 updated, 0 refused." in (
        rep_client.get(job_url(job)).content.decode()
    )


def test_the_sweep_resumes_an_import_whose_message_was_lost(
    rep_client, large, monkeypatch
):
    job = _confirmed_import(rep_client, 11)
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.RUNNING)
    queued = sweep(monkeypatch, tasks.import_job_run)

    assert queued == [job.pk]
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.state, job.done) == (BulkJob.State.DONE, 11)
    assert Contact.objects.count() == 11


def test_the_sweep_fails_an_import_whose_file_is_gone(rep_client, large, monkeypatch):
    job = _confirmed_import(rep_client, 11)
    importing.import_file_discard(name=job.params["file"])
    queued = sweep(monkeypatch, tasks.import_job_run)

    job.refresh_from_db()
    assert queued == []
    assert job.state == BulkJob.State.FAILED
    assert not Contact.objects.exists()


def test_the_sweep_resumes_a_preview_whose_message_was_lost(
    rep_client, large, monkeypatch
):
    job = upload_large(rep_client, HEADER + rows(11))
    queued = sweep(monkeypatch, tasks.import_preview_job_run)

    assert queued == [job.pk]
    job = run_preview(job)
    assert (job.state, job.done) == (BulkJob.State.DONE, 11)
    assert "Confirm import" in rep_client.get(job_url(job)).content.decode()


def test_the_sweep_fails_a_preview_whose_file_is_gone(
    rep_client, large, monkeypatch, private_media
):
    job = upload_large(rep_client, HEADER + rows(11))
    importing.import_file_discard(name=job.params["file"])
    queued = sweep(monkeypatch, tasks.import_preview_job_run)

    job.refresh_from_db()
    assert queued == []
    assert job.state == BulkJob.State.FAILED
    assert "upload the file again" in rep_client.get(job_url(job)).content.decode()


def test_two_runs_of_one_preview_never_show_a_summary_missing_chunks(
    rep_client, large, monkeypatch
):
    text = HEADER + rows(10) + "not-an-email,A,B,C\n"
    job = upload_large(rep_client, text)
    read_chunks = import_preview.read_chunks
    runs = []
    stored_while_the_first_run_went_on = []

    def chunks_with_a_second_run(path, file_format):
        runs.append(len(runs) + 1)
        first_run = runs[-1] == 1
        for index, chunk in enumerate(read_chunks(path, file_format)):
            if first_run and index == 1:
                # The sweep's second run goes all the way while the first one
                # sits between its first and second chunk.
                import_preview.import_preview_job_run(job_id=job.pk)
            if first_run and index == 2:
                # The first run has now recorded its second chunk, if it may.
                stored = BulkJob.objects.get(pk=job.pk)
                summary = import_preview.import_preview_summary(stored)
                stored_while_the_first_run_went_on.append(
                    (stored.state, summary.rows, summary.invalid)
                )
            yield chunk

    monkeypatch.setattr(import_preview, "read_chunks", chunks_with_a_second_run)
    job = import_preview.import_preview_job_run(job_id=job.pk)

    summary = import_preview.import_preview_summary(job)
    assert runs == [1, 2]
    assert stored_while_the_first_run_went_on == [(BulkJob.State.DONE, 11, 1)]
    assert (job.state, job.done, summary.rows, summary.invalid) == (
        BulkJob.State.DONE,
        11,
        11,
        1,
    )
    assert "Confirm import" not in rep_client.get(job_url(job)).content.decode()
