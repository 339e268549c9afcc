"""Preview a large import file in a Celery task instead of in the request.

Checking a file row by row costs about a quarter of a millisecond a row, so a
100,000-row file would hold a web worker for half a minute. Up to
settings.BULK_TASK_THRESHOLD rows the People page previews inside the request;
above it (or when the size cannot be told cheaply) the preview is a BulkJob of
kind "import_preview": the user watches its progress on the job page, may leave
and come back, and finds the preview there, with the "Confirm import" button.

The task dry-runs the file chunk by chunk with the same resource as the import
(contacts.importing) and stores the running summary in the job's params with
its progress, one UPDATE per chunk. A dry run writes nothing, so a retried
task simply resumes after the last chunk it recorded; the emails of the
chunks it skips are remembered again so that duplicates are still found.
"""

import datetime
import logging
import re
import zipfile

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.importing import (
    ContactResource,
    ImportFileError,
    ImportSummary,
    import_file_discard,
    import_file_is_kept,
    import_file_path,
    import_job_create,
    read_chunks,
    stalled_file_jobs_recover,
)
from contacts.models import BulkJob

logger = logging.getLogger(__name__)

KIND = "import_preview"
# Bytes read at a time when counting a CSV file's lines.
COUNT_BLOCK = 1024 * 1024
# The <dimension ref="A1:K100001"/> element that opens a worksheet (before its
# rows), with or without a namespace prefix.
DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def import_rows_estimate(*, name: str, file_format: str) -> int | None:
    """Return about how many data rows a kept upload holds, or None if unknown.

    Raise ImportFileError for a file that is no workbook at all.

    Cheap by design, since it decides whether the preview may run in the
    request: a CSV file's line breaks are counted (an overestimate when it
    has blank lines or cells spanning lines), an XLSX file's worksheet is asked
    for the size it declares in its first bytes. A workbook of several sheets,
    or one that declares no size, is unknown.
    """
    path = import_file_path(name)
    try:
        if file_format == "csv":
            # Line feeds, or carriage returns for files saved with old Mac
            # line endings; the header is one of the lines.
            feeds = returns = 0
            last = b"\n"
            with path.open("rb") as handle:
                while block := handle.read(COUNT_BLOCK):
                    feeds += block.count(b"\n")
                    returns += block.count(b"\r")
                    last = block[-1:]
            lines = max(feeds, returns) + (last not in b"\r\n")
            return max(lines - 1, 0)
        with zipfile.ZipFile(path) as archive:
            sheets = [
                item
                for item in archive.namelist()
                if item.startswith("xl/worksheets/") and item.endswith(".xml")
            ]
            if len(sheets) != 1:
                return None
            with archive.open(sheets[0]) as sheet:
                head = sheet.read(4096)
    except (OSError, zipfile.BadZipFile) as error:
        raise ImportFileError(_("This file cannot be read as CSV or XLSX.")) from error
    match = DIMENSION.search(head)
    if match is None:
        return None
    return max(int(match.group(1) or 1) - 1, 0)


@transaction.atomic
def import_preview_job_create(
    *, name: str, file_format: str, rows: int | None, actor: User | None
) -> BulkJob:
    """Create the job that previews a kept upload; rows is its estimate, if any."""
    job = BulkJob(
        kind=KIND,
        params={"file": name, "format": file_format},
        total=rows or 0,
        actor=actor,
    )
    job.full_clean()
    job.save()
    logger.info("Import preview job %d created for about %d rows", job.pk, job.total)
    return job


def import_preview_job_start(*, job: BulkJob) -> BulkJob:
    """Queue a preview job for the worker once the job is committed."""
    from contacts import tasks  # the task module imports this one

    transaction.on_commit(lambda: tasks.import_preview_job_run.delay(job.pk))
    return job


def import_preview_job_run(*, job_id: int) -> BulkJob:
    """Dry-run a job's file chunk by chunk, recording the summary as it goes.

    A file that cannot be read as contacts ends the job as failed, with the
    reason for the user. A retried job resumes after its last recorded chunk.
    Two runs of one job (a slow task that the sweep queued again) each build
    the whole summary; only a run's progress past the recorded one is stored,
    and the first to finish closes the job with its complete summary, so the
    preview never shows a summary that is missing chunks.
    """
    job = BulkJob.objects.select_related("actor").get(pk=job_id)
    unfinished = BulkJob.objects.filter(pk=job.pk, state__in=BulkJob.UNFINISHED)
    if not unfinished.update(state=BulkJob.State.RUNNING):
        return job
    resource = ContactResource(actor=job.actor)
    summary = ImportSummary.from_params(job.params.get("summary", {}))
    name, file_format = job.params["file"], job.params["format"]

    position = 0
    try:
        for chunk in read_chunks(import_file_path(name), file_format):
            first_row, position = position + 1, position + len(chunk)
            if position <= job.done:
                resource.remember(chunk)
                continue
            result = resource.import_data(chunk, dry_run=True, use_transactions=False)
            summary.add(result, first_row=first_row)
            # Absolute values, not increments: a chunk recorded twice by a
            # redelivered task still counts once.
            unfinished.filter(done__lt=position).update(
                done=position, params=_params(name, file_format, summary)
            )
            logger.info("Import preview job %d: %d rows checked", job.pk, position)
    except ImportFileError as error:
        import_preview_job_fail(job_id=job.pk, message=str(error))
        job.refresh_from_db()
        return job

    closed = unfinished.update(
        state=BulkJob.State.DONE,
        total=summary.rows,
        done=summary.rows,
        finished_at=timezone.now(),
        params=_params(name, file_format, summary),
    )
    job.refresh_from_db()
    if not closed:
        return job  # another run finished it, or it was failed meanwhile
    logger.info(
        "Import preview job %d done: %d rows, %d invalid, %d refused",
        job.pk,
        summary.rows,
        summary.invalid,
        summary.refused,
    )
    return job


def _params(name: str, file_format: str, summary: ImportSummary) -> dict:
    return {
        "file": name,
        "format": file_format,
        "summary": summary.as_params(with_errors=True),
    }


def import_preview_jobs_recover(*, stalled_before: datetime.datetime) -> list[int]:
    """Return the stalled previews to queue again; fail those whose file is gone.

    Every preview job is a task (small files are previewed in the request,
    with no job), so one created before `stalled_before` and not finished lost
    its task message: Redis forgot it, or never took it. A dry run writes
    nothing, so queuing a preview whose task is merely slow costs only work.
    """
    return stalled_file_jobs_recover(
        kind=KIND,
        stalled_before=stalled_before,
        can_resume=import_file_is_kept,
        fail=import_preview_job_fail,
    )


def import_preview_job_fail(*, job_id: int, message: str = "") -> None:
    """Mark a preview failed with a message for the user; drop its file."""
    job = BulkJob.objects.get(pk=job_id)
    if "file" in job.params:
        import_file_discard(name=job.params["file"])
    job.state = BulkJob.State.FAILED
    job.finished_at = timezone.now()
    job.error = message or _(
        "The preview stopped before the end of the file. Nothing was imported; "
        "upload the file again."
    )
    job.params = {}
    job.save(update_fields=["state", "finished_at", "error", "params"])
    logger.warning("Import preview job %d failed after %d rows", job.pk, job.done)


def import_preview_summary(job: BulkJob) -> ImportSummary:
    """Return what a preview job found so far."""
    return ImportSummary.from_params(job.params.get("summary", {}))


def import_preview_is_open(job: BulkJob) -> bool:
    """Return True while a finished preview's file waits for confirmation."""
    return (
        job.state == BulkJob.State.DONE
        and "file" in job.params
        and not job.params.get("closed")
    )


def _open_preview(job_id: int, actor: User) -> BulkJob | None:
    # Locked, so that of two submissions of the same preview only one closes it.
    job = (
        BulkJob.objects.select_for_update()
        .filter(pk=job_id, kind=KIND, actor=actor)
        .first()
    )
    return job if job is not None and import_preview_is_open(job) else None


def _close(job: BulkJob) -> None:
    job.params = {**job.params, "closed": True}
    job.save(update_fields=["params"])


@transaction.atomic
def import_preview_job_confirm(*, job_id: int, actor: User) -> BulkJob | None:
    """Close the actor's clean preview and create the job that imports its file.

    Return the import job, or None if the preview is not the actor's, not
    finished, has invalid rows, or was already confirmed or cancelled: each
    preview leads to at most one import.
    """
    preview = _open_preview(job_id, actor)
    if preview is None or not import_preview_summary(preview).can_import:
        return None
    _close(preview)
    job = import_job_create(
        name=preview.params["file"],
        file_format=preview.params["format"],
        rows=import_preview_summary(preview).rows,
        actor=actor,
    )
    logger.info("Import preview job %d confirmed as import job %d", preview.pk, job.pk)
    return job


@transaction.atomic
def import_preview_job_cancel(*, job_id: int, actor: User) -> bool:
    """Close the actor's finished preview without importing; drop its file."""
    preview = _open_preview(job_id, actor)
    if preview is None:
        return False
    _close(preview)
    import_file_discard(name=preview.params["file"])
    logger.info("Import preview job %d cancelled", preview.pk)
    return True
