"""Fixtures for the real services the suite talks to: PostgreSQL, Redis, Celery."""

import os

import pytest


@pytest.fixture
def postgres(db):
    """Skip unless the test database is PostgreSQL (DATABASE_URL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")
    return connection


@pytest.fixture(scope="session")
def redis_url():
    """Return REDIS_URL once Redis has answered a PING, else skip."""
    import redis

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL=redis://...")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"needs Redis at REDIS_URL, which did not answer: {error}")
    return url


@pytest.fixture
def celery_worker(redis_url, transactional_db):
    """Run a real Celery worker, consuming from Redis, for one test.

    The worker runs in a thread of this process, so it uses the test database;
    the test must commit (transactional_db) for the worker to see its rows.
    """
    from celery.contrib.testing import tasks  # noqa: F401  registers celery.ping
    from celery.contrib.testing.worker import start_worker

    from salesinsight.celery import app

    app.conf.task_always_eager = False
    # Messages left in the queue by an earlier, interrupted run would be
    # executed against this test's database.
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=30):
        yield app
