"""Celery tasks travel through the real Redis broker to a real worker."""

import pytest

from salesinsight.celery import ping


@pytest.mark.services
def test_a_task_round_trips_through_redis_and_a_worker(celery_worker):
    assert celery_worker.conf.task_always_eager is False

    result = ping.delay()

    assert result.get(timeout=20) == "pong"
    assert result.backend.__class__.__name__ == "RedisBackend"
