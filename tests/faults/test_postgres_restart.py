"""PostgreSQL restarted in the middle of a bulk update.

A restart ends every session: the batch in flight rolls back whole (its
contacts keep their old values, with no history row and no new compliance
version), the batches committed before it stay, and the user is told in plain
words: the task resumes where it stopped, and a change made inside the request
answers with a page saying nothing was half-done.
"""

import pytest

from tests.faults.checks import (
    ALL_CHANGED,
    FIRST_BATCH,
    NEW_PERMISSION,
    PERMISSION_URL,
    SECOND_BATCH_ID,
    compliance_state,
    finished,
    start_permission_job,
)
from tests.plugins.private_services import SEED_CONTACTS, wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.fault("PostgreSQL restarted during a bulk update"),
]

# Within the request's limit (BULK_TASK_THRESHOLD), so the change runs in the
# request: the 111 contacts whose email starts p65 (p65, p650.., p6500..).
SMALL_SELECTION = {"scope": "all", "filter": "q=p65"}
SMALL_SELECTION_COUNT = 111


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_restart_mid_job_rolls_back_the_batch_and_the_job_resumes(
    attempt, fault_db, private_postgres, app_processes
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
        private_postgres.stop()
    private_postgres.start()

    job = wait_for(lambda: finished(fault_db, job_id), what="the job to finish")
    page = app_processes.driver("get", path=f"/people/jobs/{job_id}/")

    assert (job["state"], job["done"], job["total"], job["changed"]) == (
        "done",
        SEED_CONTACTS,
        SEED_CONTACTS,
        SEED_CONTACTS,
    )
    assert compliance_state(fault_db) == ALL_CHANGED
    assert "Permission updated for 12,000 contacts." in page["alerts"]
    assert (
        "The change was interrupted after 5,000 of 12,000 contacts and resumed "
        "from there. No contact is changed twice." in page["body"]
    )
    assert "Error" not in page["body"]


@pytest.mark.parametrize("attempt", [1, 2, 3])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "modal"])
def test_a_restart_during_a_change_in_the_request_tells_the_user_and_writes_nothing(
    attempt, htmx, fault_db, private_postgres, app_processes
):
    # The request locks its contacts in id order and waits at 6,550, half-way.
    with fault_db.row_locked(6550):
        request = app_processes.start_driver(
            "post",
            path=PERMISSION_URL,
            data={
                **SMALL_SELECTION,
                "permission_type": NEW_PERMISSION,
                "step": "apply",
            },
            htmx=htmx,
        )
        wait_for(
            lambda: request.exited() or fault_db.waiting_for_locks() == 1,
            what="the request to wait",
        )
        assert not request.exited(), request.finish()
        private_postgres.restart()
    answer = request.finish()

    assert answer["status"] == (200 if htmx else 503)
    assert answer["alerts"] == [
        "The change stopped because the database did not answer. Nothing was "
        "half-done: each contact either has the change, with its history, or "
        "does not have it. Try again in a moment; contacts that already have "
        "the change are skipped."
    ]
    for internals in ("Traceback", "OperationalError", "psycopg2", "terminating"):
        assert internals not in answer["body"]
    assert compliance_state(fault_db) == {
        "changed": 0,
        "half_written": 0,
        "history_rows": 0,
    }

    # Marking the job failed needs the database the restart took away; if the
    # request could not, beat's sweep does.
    app_processes.driver("sweep")
    (job_id,) = fault_db.rows("SELECT id FROM contacts_bulkjob")[0]
    page = app_processes.driver("get", path=f"/people/jobs/{job_id}/")
    assert page["alerts"] == [
        "The change stopped after 0 of 111 contacts. Those were changed; start "
        "the action again for the rest."
    ]
