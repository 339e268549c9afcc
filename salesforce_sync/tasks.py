"""Celery tasks of the sync: thin, idempotent, acknowledged late.

A run is safe to repeat: pending outbox rows and the watermarks say what is
left, and the run lock keeps two runs from overlapping.
"""

import logging
import random

from celery import shared_task
from django.conf import settings

from salesforce_sync import services
from salesforce_sync.client import TransientError
from salesforce_sync.models import RunTrigger

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
# Backoff stays far below the broker's visibility timeout (3600 s), so Redis
# never hands a task that is waiting out its countdown to a second worker.
MAX_COUNTDOWN_SECONDS = 900


def retry_countdown(retries: int) -> float:
    """Return the exponential backoff, with jitter, before retry number `retries`."""
    base = min(
        settings.SALESFORCE_TASK_RETRY_SECONDS * 2**retries, MAX_COUNTDOWN_SECONDS
    )
    # Jitter spreads retries out; it needs no cryptographic randomness.
    return base / 2 + random.uniform(0, base / 2)  # noqa: S311 # nosec B311


def _run(task, trigger: str) -> None:
    try:
        services.sync_run(trigger=trigger)
    except TransientError as error:
        if task.request.retries >= MAX_RETRIES:
            services.sync_give_up(error=error, attempts=task.request.retries + 1)
            return
        raise task.retry(countdown=retry_countdown(task.request.retries)) from error


@shared_task(
    bind=True,
    name="salesforce_sync.sync",
    acks_late=True,
    ignore_result=True,
    max_retries=MAX_RETRIES,
)
def sync(self, trigger: str = RunTrigger.SCHEDULE) -> None:
    """Pull from Salesforce, then push the outbox (beat and "Sync now")."""
    _run(self, trigger)


@shared_task(
    bind=True,
    name="salesforce_sync.relay_outbox",
    acks_late=True,
    ignore_result=True,
    max_retries=MAX_RETRIES,
)
def relay_outbox(self) -> None:
    """Push pending outbox rows (queued on commit, and the periodic sweep)."""
    # Changes committed from now on queue a relay of their own, even if this
    # one finds the lock taken and leaves their rows to the sweep.
    services.cache_forget_relay()
    _run(self, RunTrigger.RELAY)
