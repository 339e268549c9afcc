"""The same bulk task message delivered twice: the change takes effect once.

Redis redelivers a message whose worker looked lost, and the sweep requeues a
job whose message looked lost, so two runs of one job must be harmless whether
they overlap or follow each other.
"""

import pytest

from tests.faults.checks import (
    ALL_CHANGED,
    compliance_state,
    finished,
    start_permission_job,
)
from tests.plugins.private_services import SEED_CONTACTS, wait_for

pytestmark = [pytest.mark.services, pytest.mark.fault("duplicate task delivery")]

TASK = "contacts.tasks.bulk_job_run"


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
def test_two_deliveries_running_at_once_change_each_contact_once(
    attempt, fault_db, private_redis, app_processes
):
    for worker in [app_processes.start_worker(wait=False) for _ in range(2)]:
        app_processes.wait_ready(worker)
    # Both workers get their copy and wait on the first contact's lock, so
    # their runs overlap from the first batch on.
    with fault_db.row_locked(1):
        job_id = start_permission_job(app_processes)
        app_processes.driver("send_task", name=TASK, args=[job_id])
        wait_for(
            lambda: fault_db.waiting_for_locks() == 2,
            what="both deliveries to be running",
        )

    wait_for(lambda: finished(fault_db, job_id), what="the job to finish")
    # With the test's 3 s visibility timeout, Redis may hand a copy still
    # running to the worker that finished first: a third delivery, just as
    # harmless. Wait until no copy is left anywhere.
    wait_for(
        lambda: (
            app_processes.worker_logs().count("succeeded") >= 2
            and private_redis.queued() == 0
        ),
        what="every delivery to have run",
    )

    assert_done_once(fault_db, job_id)


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_second_delivery_after_the_first_finished_changes_nothing(
    attempt, fault_db, app_processes
):
    app_processes.start_worker()
    job_id = start_permission_job(app_processes)
    wait_for(lambda: finished(fault_db, job_id), what="the job to finish")
    first = fault_db.job(job_id)

    (task_id,) = app_processes.driver("send_task", name=TASK, args=[job_id])["task_ids"]
    wait_for(
        lambda: f"[{task_id}] succeeded" in app_processes.worker_logs(),
        what="the second delivery to run",
    )

    assert fault_db.job(job_id) == first
    assert_done_once(fault_db, job_id)
