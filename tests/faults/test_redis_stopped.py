"""Redis, the broker, stopped around a bulk job.

The private Redis keeps nothing on disk, so stopping it loses every queued and
unacknowledged message, as a crashed Redis without persistence does. A job
already running needs only the database and finishes; a job whose message was
lost, or never got to Redis, waits visibly until beat's sweep queues it again.
"""

import pytest

from tests.faults.checks import (
    ALL_CHANGED,
    FIRST_BATCH,
    SECOND_BATCH_ID,
    compliance_state,
    finished,
    start_permission_job,
    start_unsubscribe_job,
    subscription_state,
)
from tests.plugins.private_services import SEED_CONTACTS, wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.fault("Redis stopped during a bulk task"),
]


def assert_done_once(db, job_id):
    job = db.job(job_id)
    assert (job["state"], job["done"], job["total"], job["changed"]) == (
        "done",
        SEED_CONTACTS,
        SEED_CONTACTS,
        SEED_CONTACTS,
    )
    assert compliance_state(db) == ALL_CHANGED


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_running_job_finishes_while_redis_is_down_and_the_worker_carries_on(
    attempt, fault_db, private_redis, app_processes
):
    app_processes.start_worker()
    with fault_db.row_locked(SECOND_BATCH_ID):
        job_id = start_permission_job(app_processes)
        wait_for(
            lambda: (
                fault_db.job(job_id)["done"] == FIRST_BATCH
                and fault_db.waiting_for_locks() == 1
            ),
            what="the job to stop inside its second batch",
        )
        private_redis.stop()

    wait_for(lambda: finished(fault_db, job_id), what="the job to finish")
    private_redis.start()
    # The worker reconnects: the next job runs on it.
    second = start_unsubscribe_job(app_processes)
    wait_for(lambda: finished(fault_db, second), what="the next job to finish")

    assert_done_once(fault_db, job_id)
    assert subscription_state(fault_db) == {
        "unsubscribed": SEED_CONTACTS,
        "half_written": 0,
        "history_rows": SEED_CONTACTS,
    }


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_job_whose_message_redis_lost_is_queued_again_by_the_sweep(
    attempt, fault_db, private_redis, app_processes
):
    job_id = start_permission_job(app_processes)
    assert private_redis.queued() == 1
    # No worker has taken the message yet: it is lost with Redis.
    private_redis.stop()
    private_redis.start()
    app_processes.start_worker()
    assert private_redis.queued() == 0
    assert fault_db.job(job_id)["state"] == "pending"

    app_processes.driver("sweep")
    wait_for(lambda: finished(fault_db, job_id), what="the job to finish")

    assert_done_once(fault_db, job_id)


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_job_started_while_redis_is_down_waits_visibly_then_runs(
    attempt, fault_db, private_redis, app_processes
):
    app_processes.driver("login")
    private_redis.stop()

    job_id = start_permission_job(app_processes)
    waiting = app_processes.driver("get", path=f"/people/jobs/{job_id}/")
    private_redis.start()
    app_processes.start_worker()
    app_processes.driver("sweep")
    wait_for(lambda: finished(fault_db, job_id), what="the job to finish")
    done = app_processes.driver("get", path=f"/people/jobs/{job_id}/")

    assert waiting["status"] == 200
    assert (
        "Waiting: the task queue did not answer. The change starts by itself once "
        "it is back; nothing has been changed yet." in waiting["body"]
    )
    assert "Permission updated for 12,000 contacts." in done["alerts"]
    assert "task queue" not in done["body"]
    assert_done_once(fault_db, job_id)
