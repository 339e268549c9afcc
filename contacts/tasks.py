"""Celery tasks of the contacts app: thin, they take ids and call a service.

Their progress and outcome live on the job's row; nothing reads a task result,
so none is stored (storing one made queuing wait ~20 s for a Redis that is
down, on top of the publish's own retries).
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from contacts import bulk, import_preview, importing

logger = logging.getLogger(__name__)

MAX_RETRIES = 5


@shared_task(bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def bulk_job_run(self, job_id: int) -> None:
    """Run a bulk job; retry a lost database connection, record other failures."""
    try:
        if self.request.retries:
            bulk.bulk_job_note_resumed(job_id=job_id)
        bulk.bulk_job_run(job_id=job_id)
    except (OperationalError, InterfaceError) as error:
        if self.request.retries >= MAX_RETRIES:
            logger.exception("Bulk job %d gave up after retries", job_id)
            bulk.bulk_job_fail(job_id=job_id)
            return
        # The committed batches stay; the retry resumes after the last one.
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error
    except Exception:
        logger.exception("Bulk job %d failed", job_id)
        bulk.bulk_job_fail(job_id=job_id)


@shared_task(ignore_result=True)
def bulk_jobs_sweep(stalled_minutes: float = 5) -> None:
    """Queue again the large jobs, imports and previews whose message was lost.

    Those that cannot resume (run in a request, or their file is gone) fail.

    Redis without persistence forgets queued messages when it stops, and a
    job started while Redis was down was never queued at all (beat runs this
    every few minutes).
    """
    stalled_before = timezone.now() - timedelta(minutes=stalled_minutes)
    for job_id in bulk.bulk_jobs_recover(stalled_before=stalled_before):
        bulk_job_run.delay(job_id)
    for job_id in importing.import_jobs_recover(stalled_before=stalled_before):
        import_job_run.delay(job_id)
    for job_id in import_preview.import_preview_jobs_recover(
        stalled_before=stalled_before
    ):
        import_preview_job_run.delay(job_id)


@shared_task(bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def import_job_run(self, job_id: int) -> None:
    """Import a previewed file; retry a lost connection, record other failures."""
    try:
        importing.import_job_run(job_id=job_id)
    except (OperationalError, InterfaceError) as error:
        if self.request.retries >= MAX_RETRIES:
            logger.exception("Import job %d gave up after retries", job_id)
            importing.import_job_fail(job_id=job_id)
            return
        # Committed chunks stay; the retry skips the rows they imported.
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error
    except Exception:
        logger.exception("Import job %d failed", job_id)
        importing.import_job_fail(job_id=job_id)


@shared_task(bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def import_preview_job_run(self, job_id: int) -> None:
    """Preview a large file; retry a lost connection, record other failures."""
    try:
        import_preview.import_preview_job_run(job_id=job_id)
    except (OperationalError, InterfaceError) as error:
        if self.request.retries >= MAX_RETRIES:
            logger.exception("Import preview job %d gave up after retries", job_id)
            import_preview.import_preview_job_fail(job_id=job_id)
            return
        # A dry run wrote nothing; the retry resumes after the recorded chunks.
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error
    except Exception:
        logger.exception("Import preview job %d failed", job_id)
        import_preview.import_preview_job_fail(job_id=job_id)


def _backoff(retries: int) -> float:
    return settings.BULK_RETRY_SECONDS * 2**retries
