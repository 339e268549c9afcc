"""A worker killed with SIGKILL in the middle of a bulk job.

Late acknowledgement keeps the task's message in Redis; once the visibility
timeout has passed (3 s for these workers, an hour in production), another
worker receives it and the job resumes after its last committed batch.
"""

import pytest

from tests.faults.checks import (
    ALL_CHANGED,
    FIRST_BATCH,
    SECOND_BATCH_ID,
    compliance_state,
    finished,
    start_permission_job,
)
from tests.plugins.private_services import SEED_CONTACTS, wait_for

pytestmark = [pytest.mark.services, pytest.mark.fault("worker killed mid-task")]


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_job_whose_worker_is_killed_completes_once_on_the_next_worker(
    attempt, fault_db, app_processes
):
    worker = app_processes.start_worker()
    with fault_db.row_locked(SECOND_BATCH_ID):
        job_id = start_permission_job(app_processes)
        wait_for(
            lambda: (
                fault_db.job(job_id)["done"] == FIRST_BATCH
                and fault_db.waiting_for_locks() == 1
            ),
            what="the job to stop inside its second batch",
        )
        app_processes.start_worker()
        app_processes.kill(worker)

    assert compliance_state(fault_db)["half_written"] == 0
    job = wait_for(lambda: finished(fault_db, job_id), what="the job to finish")

    assert (job["state"], job["done"], job["total"], job["changed"]) == (
        "done",
        SEED_CONTACTS,
        SEED_CONTACTS,
        SEED_CONTACTS,
    )
    assert compliance_state(fault_db) == ALL_CHANGED
