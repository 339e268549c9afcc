"""Celery tasks of the overview: thin, they call a service."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from overview import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 3


@shared_task(bind=True, max_retries=MAX_RETRIES)
def summary_refresh(self) -> None:
    """Recompute the overview; retry a lost database connection."""
    try:
        services.summary_refresh()
    except (OperationalError, InterfaceError) as error:
        if self.request.retries >= MAX_RETRIES:
            # The page keeps showing the previous figures with their time.
            logger.exception("Overview refresh gave up after retries")
            return
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error
