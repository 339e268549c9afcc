"""Import contacts from CSV or XLSX through django-import-export.

One resource serves the People page and the Django admin. It matches existing
contacts by email, case-insensitively, and updates them without touching their
Source type; new contacts get Source type "Import" and, through the
CONTACTS_CREATED hook, a compliance history with the channel "import".
Suppressed (erased) emails are refused row by row.

The People page reads a file in chunks of CHUNK_ROWS rows and imports each
chunk with the resource: two queries to look the chunk's emails up (contacts
and suppressions), one INSERT and one UPDATE, so a 100,000-row file never has
more than one chunk of objects in memory. Each chunk commits atomically with
the job's progress: a row is imported whole or not at all, and a chunk that
fails at the database is rolled back whole and stops the import. A large
file's preview runs the same way in a Celery task (contacts.import_preview).
"""

import csv
import datetime
import logging
import re
import secrets
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tablib
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from import_export import resources
from import_export.results import RowResult
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from contacts.choices import SourceType
from contacts.extensions import CONTACTS_CREATED, run_hooks
from contacts.models import BulkJob, Contact
from contacts.selectors import suppressed_hashes
from contacts.suppression import email_hash, normalise_email

logger = logging.getLogger(__name__)

KIND = "import"
CHANNEL = "import"
CHUNK_ROWS = 1000
# An XLSX file is a ZIP: a small upload can expand to gigabytes of XML (a
# "zip bomb"). Real workbooks compress about tenfold; refuse far beyond that.
XLSX_EXPANSION_LIMIT = 50
# Per-row errors shown in a preview; the counts cover every row.
MAX_REPORTED_ERRORS = 100
FORMATS = ("csv", "xlsx")

IMPORTED_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "phone_number",
    "website",
    "other",
    "facebook",
    "twitter",
    "linkedin",
)

SUPPRESSED = _("This person was erased; they cannot be imported again.")
DUPLICATE = _("This email appears on an earlier row of the file.")


class ContactResource(resources.ModelResource):
    """Contacts as rows of a file: identity fields only, matched by email."""

    class Meta:
        model = Contact
        fields = IMPORTED_FIELDS
        import_id_fields = ("email",)
        use_bulk = True
        batch_size = CHUNK_ROWS
        # Diffs deep-copy every row's instance: memory a large file cannot spare.
        skip_diff = True
        clean_model_instances = True

    def __init__(self, *, actor: User | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actor = actor
        # Normalised emails seen on earlier rows, across every chunk of a file.
        self.seen: set[str] = set()
        self.existing: dict[str, Contact] = {}
        self.suppressed: set[str] = set()

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        """Look up the chunk's emails at once: existing contacts, suppressions."""
        if self.actor is None and kwargs.get("user") is not None:
            self.actor = kwargs["user"]
        emails = {
            normalise_email(str(row.get("email") or ""))
            for row in dataset.dict
            if row.get("email")
        }
        self.existing = {
            contact.email_key: contact
            for contact in Contact.objects.annotate(email_key=Lower("email")).filter(
                email_key__in=emails
            )
        }
        self.suppressed = suppressed_hashes(emails)

    def remember(self, dataset: tablib.Dataset) -> None:
        """Note a chunk's emails as seen without checking its rows again.

        A resumed preview skips the chunks it already counted, but a later
        row repeating one of their emails is still a duplicate.
        """
        self.seen.update(
            normalise_email(str(row.get("email") or "")) for row in dataset.dict
        )

    def get_instance(self, instance_loader, row) -> Contact | None:
        return self.existing.get(normalise_email(str(row.get("email") or "")))

    def import_field(self, field, instance, row, is_m2m=False, **kwargs) -> None:
        # The email is the key an existing contact was found by; its stored
        # spelling stays.
        if field.attribute == "email" and instance.pk is not None:
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def validate_instance(
        self, instance, import_validation_errors=None, validate_unique=True
    ) -> None:
        errors = dict(import_validation_errors or {})
        email = normalise_email(instance.email or "")
        if email and email_hash(email) in self.suppressed:
            errors.setdefault("email", []).append(
                ValidationError(SUPPRESSED, code="suppressed")
            )
        elif email in self.seen:
            errors.setdefault("email", []).append(ValidationError(DUPLICATE))
        self.seen.add(email)
        try:
            # Uniqueness is the loader's job (one query per chunk), not a
            # query per row.
            instance.full_clean(
                exclude=list(errors),
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs) -> None:
        if instance.pk is None:
            instance.source_type = SourceType.IMPORT
        else:
            # Fresh data about a person restarts their retention review
            # (contacts.retention); a new contact counts from its creation.
            instance.updated_at = instance.last_activity_at = timezone.now()

    def get_bulk_update_fields(self) -> list[str]:
        return [*super().get_bulk_update_fields(), "updated_at", "last_activity_at"]

    def bulk_create(
        self, using_transactions, dry_run, raise_errors, batch_size=None, result=None
    ) -> None:
        created = list(self.create_instances)
        if dry_run:
            # A preview writes nothing: the rows were validated one by one.
            self.create_instances.clear()
            return
        super().bulk_create(
            using_transactions, dry_run, raise_errors, batch_size, result
        )
        ids = [contact.pk for contact in created if contact.pk is not None]
        if ids:
            run_hooks(
                CONTACTS_CREATED, contact_ids=ids, actor=self.actor, channel=CHANNEL
            )

    def bulk_update(
        self, using_transactions, dry_run, raise_errors, batch_size=None, result=None
    ) -> None:
        if dry_run:
            self.update_instances.clear()
            return
        super().bulk_update(
            using_transactions, dry_run, raise_errors, batch_size, result
        )

    def after_import(self, dataset, result, **kwargs) -> None:
        # ModelResource resets the id sequence after an import that set ids;
        # this one never sets ids, and the reset would race concurrent inserts.
        return None


class ImportFileError(ValueError):
    """The file cannot be read as a table of contacts; the message says why."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_rows(path: Path, file_format: str) -> Iterator[list[str]]:
    """Yield the file's rows, header first, one at a time (never all at once)."""
    try:
        if file_format == "csv":
            with path.open("r", encoding="utf-8-sig", newline="") as handle:
                yield from csv.reader(handle)
        else:
            _check_expansion(path)
            workbook = load_workbook(path, read_only=True, data_only=True)
            try:
                for row in workbook.active.iter_rows(values_only=True):
                    yield [_cell(value) for value in row]
            finally:
                workbook.close()
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("Save the CSV file as UTF-8 and upload it again.")
        ) from error
    except (
        csv.Error,
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        OSError,
    ) as error:
        raise ImportFileError(_("This file cannot be read as CSV or XLSX.")) from error


def _check_expansion(path: Path) -> None:
    """Refuse a ZIP that expands far beyond its size; leave other files be.

    A file that is no ZIP at all is reported by whichever reader opens it.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        return
    if expanded > max(path.stat().st_size, 1) * XLSX_EXPANSION_LIMIT:
        raise ImportFileError(
            _(
                "This XLSX file expands to an unusual size. Save it as CSV "
                "and upload that."
            )
        )


def read_chunks(path: Path, file_format: str) -> Iterator[tablib.Dataset]:
    """Yield the file as datasets of CHUNK_ROWS rows with the file's headers."""
    rows = read_rows(path, file_format)
    header = next((row for row in rows if any(cell.strip() for cell in row)), None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    headers = [name.strip().lower() for name in header]
    if "email" not in headers:
        raise ImportFileError(_("The file needs an “email” column."))
    known = [index for index, name in enumerate(headers) if name in IMPORTED_FIELDS]

    chunk = tablib.Dataset(headers=[headers[index] for index in known])
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        padded = row + [""] * (len(headers) - len(row))
        chunk.append([padded[index].strip() for index in known])
        if len(chunk) == CHUNK_ROWS:
            yield chunk
            chunk = tablib.Dataset(headers=chunk.headers)
    if len(chunk):
        yield chunk


@dataclass
class RowError:
    """One row's problems: its line in the file and a message per field.

    The messages are the validators' own ("Enter a valid email address."):
    they never repeat the row's values, so a job may keep them.
    """

    row: int
    messages: list[str]
    refused: bool = False


@dataclass
class ImportSummary:
    """What an import did, or would do: counts and the first row errors."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    refused: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def can_import(self) -> bool:
        return self.invalid == 0 and self.rows > self.refused

    def add(self, result, first_row: int) -> None:
        """Add one chunk's import-export result; its first row is file row first_row.

        Errors name the line of the file (the header is line 1).
        """
        self.rows += result.total_rows
        totals = result.totals
        self.new += totals[RowResult.IMPORT_TYPE_NEW]
        self.updated += totals[RowResult.IMPORT_TYPE_UPDATE]
        for invalid in result.invalid_rows:
            errors = invalid.error.error_dict
            refused = all(
                error.code == "suppressed"
                for field_errors in errors.values()
                for error in field_errors
            )
            if refused:
                self.refused += 1
            else:
                self.invalid += 1
            if len(self.errors) < MAX_REPORTED_ERRORS:
                messages = [
                    f"{name}: {message}"
                    for name, field_errors in invalid.error.message_dict.items()
                    for message in field_errors
                ]
                self.errors.append(
                    RowError(
                        row=first_row + invalid.number,
                        messages=messages,
                        refused=refused,
                    )
                )

    def as_params(self, *, with_errors: bool = False) -> dict[str, Any]:
        """Return the summary as JSON for a job: counts, and the errors if asked."""
        params: dict[str, Any] = {name: getattr(self, name) for name in COUNTS}
        if with_errors:
            params["errors"] = [asdict(error) for error in self.errors]
        return params

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "ImportSummary":
        """Return the summary a job stored with as_params()."""
        return cls(
            **{name: params.get(name, 0) for name in COUNTS},
            errors=[RowError(**error) for error in params.get("errors", [])],
        )


COUNTS = ("rows", "new", "updated", "refused", "invalid")


# What import_file_store names a kept upload; nothing else is ever opened.
IMPORT_FILE_NAME = re.compile(r"[0-9a-f]{32}\.(csv|xlsx)")


def _storage() -> FileSystemStorage:
    # Uploaded files are personal data: private, outside any public URL.
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "imports")


def is_import_file_name(name: object) -> bool:
    """Whether `name` is one import_file_store gives: random hex and a format."""
    return isinstance(name, str) and bool(IMPORT_FILE_NAME.fullmatch(name))


def import_file_store(*, upload: UploadedFile) -> tuple[str, str]:
    """Keep an upload for its preview and confirmation; return (name, format)."""
    suffix = Path(upload.name or "").suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ImportFileError(_("Upload a .csv or .xlsx file."))
    name = f"{secrets.token_hex(16)}.{suffix}"
    _storage().save(name, upload)
    if suffix == "xlsx":
        # Before any preview, in the request or in a job, opens the workbook.
        try:
            _check_expansion(import_file_path(name))
        except ImportFileError:
            import_file_discard(name=name)
            raise
    return name, suffix


def import_file_discard(*, name: str) -> None:
    """Delete a kept upload once it is imported or abandoned."""
    _storage().delete(name)


def import_file_path(name: str) -> Path:
    """Return where a kept upload lives on disk."""
    return Path(_storage().path(name))


def import_preview(*, name: str, file_format: str, actor: User | None) -> ImportSummary:
    """Dry-run the whole file, chunk by chunk; write nothing."""
    resource = ContactResource(actor=actor)
    summary = ImportSummary()
    for chunk in read_chunks(import_file_path(name), file_format):
        result = resource.import_data(chunk, dry_run=True, use_transactions=False)
        summary.add(result, first_row=summary.rows + 1)
    return summary


@transaction.atomic
def import_job_create(
    *, name: str, file_format: str, rows: int, actor: User | None
) -> BulkJob:
    """Create the job that imports a previewed file."""
    job = BulkJob(
        kind=KIND,
        params={"file": name, "format": file_format},
        total=rows,
        actor=actor,
    )
    job.full_clean()
    job.save()
    logger.info("Import job %d created for %d rows", job.pk, rows)
    return job


def import_job_start(*, job: BulkJob) -> BulkJob:
    """Import a small file now, or queue a large one for the worker."""
    if job.total <= settings.BULK_TASK_THRESHOLD:
        try:
            return import_job_run(job_id=job.pk)
        except Exception:
            logger.exception("Import job %d failed", job.pk)
            import_job_fail(job_id=job.pk)
            job.refresh_from_db()
            return job

    from contacts import tasks  # the task module imports this one

    transaction.on_commit(lambda: tasks.import_job_run.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> BulkJob:
    """Import a job's file chunk by chunk; each chunk commits with its progress.

    A retried job skips the rows its committed chunks already imported. Two
    runs of one job (a slow task that the sweep queued again) take turns:
    each chunk is imported under the job's row lock, after reading the
    progress and the summary stored there, so no row is imported twice.
    """
    job = BulkJob.objects.select_related("actor").get(pk=job_id)
    if job.is_finished:
        return job
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.RUNNING)
    resource = ContactResource(actor=job.actor)
    name = job.params["file"]

    position = 0
    for chunk in read_chunks(import_file_path(name), job.params["format"]):
        first_row, position = position + 1, position + len(chunk)
        if position <= job.done:
            continue
        with transaction.atomic():
            job = BulkJob.objects.select_for_update().get(pk=job.pk)
            if job.is_finished or position <= job.done:
                continue
            result = resource.import_data(chunk, dry_run=False, use_transactions=True)
            if result.has_errors():
                raise RuntimeError(
                    f"Import job {job.pk}: a chunk failed at the database"
                )
            summary = ImportSummary.from_params(job.params.get("result", {}))
            summary.add(result, first_row=first_row)
            summary.errors.clear()
            BulkJob.objects.filter(pk=job.pk).update(
                done=F("done") + len(chunk),
                changed=F("changed")
                + result.totals[RowResult.IMPORT_TYPE_NEW]
                + result.totals[RowResult.IMPORT_TYPE_UPDATE],
                params={**job.params, "result": summary.as_params()},
            )
        logger.info("Import job %d: rows up to %d committed", job.pk, position)

    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        job.state = BulkJob.State.DONE
        job.total = max(job.total, job.done)
        job.finished_at = timezone.now()
        job.params = {"result": job.params.get("result", {})}
        job.save(update_fields=["state", "total", "finished_at", "params"])
    import_file_discard(name=name)
    logger.info("Import job %d done: %d rows", job.pk, job.done)
    return job


def import_jobs_recover(*, stalled_before: datetime.datetime) -> list[int]:
    """Return the stalled import jobs to queue again; fail those that cannot resume.

    Like bulk_jobs_recover: an import started before `stalled_before` and not
    finished lost its task message (Redis forgot it, or never took it), or its
    request if it was small enough to run there. A queued one resumes from
    its file after its committed chunks; one whose file is gone, or that ran
    in its request, is failed, keeping the chunks it committed.
    """
    return stalled_file_jobs_recover(
        kind=KIND,
        stalled_before=stalled_before,
        can_resume=lambda job: (
            import_file_is_kept(job) and job.total > settings.BULK_TASK_THRESHOLD
        ),
        fail=import_job_fail,
    )


def import_file_is_kept(job: BulkJob) -> bool:
    """Whether the upload a job works on is still stored."""
    name = job.params.get("file")
    return is_import_file_name(name) and import_file_path(name).exists()


def stalled_file_jobs_recover(
    *,
    kind: str,
    stalled_before: datetime.datetime,
    can_resume: Callable[[BulkJob], bool],
    fail: Callable[..., None],
) -> list[int]:
    """Return the stalled jobs of `kind` that can resume; fail the others.

    Stalled: created before `stalled_before` and not finished. Imports and
    their previews share this; each says what lets one of its jobs resume.
    """
    stalled = BulkJob.objects.filter(
        kind=kind,
        state__in=BulkJob.UNFINISHED,
        created_at__lt=stalled_before,
    ).only("pk", "total", "params")
    queued = []
    for job in stalled:
        if can_resume(job):
            queued.append(job.pk)
        else:
            fail(job_id=job.pk)
    logger.info(
        "Stalled %s jobs: %d to queue again, %d failed",
        kind,
        len(queued),
        len(stalled) - len(queued),
    )
    return queued


def import_job_fail(*, job_id: int) -> None:
    """Mark an import failed; drop its file; keep the chunks it committed."""
    job = BulkJob.objects.get(pk=job_id)
    if "file" in job.params:
        import_file_discard(name=job.params["file"])
    job.state = BulkJob.State.FAILED
    job.finished_at = timezone.now()
    job.error = _(
        "The import stopped after %(done)s of %(total)s rows. Those rows were "
        "imported; remove them from the file and import the rest."
    ) % {"done": job.done, "total": job.total}
    job.params = {"result": job.params.get("result", {})}
    job.save(update_fields=["state", "finished_at", "error", "params"])
    logger.warning("Import job %d failed after %d rows", job.pk, job.done)


def import_message(job: BulkJob) -> str:
    """Return the outcome of a finished import as the user reads it."""
    if job.state == BulkJob.State.FAILED:
        return job.error
    result = job.params.get("result", {})
    return _(
        "Import finished: %(new)s added, %(updated)s updated, %(refused)s refused."
    ) % {
        key: number_format(result.get(key, 0), force_grouping=True)
        for key in ("new", "updated", "refused")
    }
