"""No unsubscribe is lost to a fault.

An unsubscribe is a promise to a person: it must commit whatever else is down.
These runs count, in faults.json, every unsubscribe they expected to hold and
every one they found missing (or written twice, or without its history row).
"""

import pytest

from tests.faults.checks import (
    FIRST_BATCH,
    SECOND_BATCH_ID,
    UNSUBSCRIBE_URL,
    finished,
    start_unsubscribe_job,
    subscription_state,
    unsubscribed_ids,
)
from tests.plugins.private_services import SEED_CONTACTS, wait_for

pytestmark = [pytest.mark.services, pytest.mark.fault("unsubscribes under faults")]

# The 111 contacts whose email starts p65: a bulk unsubscribe in the request.
P65 = {65, *range(650, 660), *range(6500, 6600)}


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_every_kind_of_unsubscribe_commits_while_redis_is_down(
    attempt, fault_db, private_redis, app_processes, fault_outcome
):
    app_processes.driver("login")
    private_redis.stop()

    link = app_processes.driver("unsubscribe_link", contact_id=101)
    one_click = app_processes.driver("unsubscribe_link", contact_id=102, one_click=True)
    person = app_processes.driver("post", path="/people/103/unsubscribe/", data={})
    bulk = app_processes.driver(
        "post",
        path=UNSUBSCRIBE_URL,
        data={"scope": "all", "filter": "q=p65", "step": "apply"},
    )

    expected = {101, 102, 103} | P65
    lost = fault_outcome.unsubscribes(
        expected=expected, recorded=unsubscribed_ids(fault_db)
    )
    assert lost == 0
    assert [link["status"], one_click["status"], person["status"], bulk["status"]] == [
        200,
        200,
        302,
        302,
    ]
    assert subscription_state(fault_db) == {
        "unsubscribed": len(expected),
        "half_written": 0,
        "history_rows": len(expected),
    }


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_bulk_unsubscribe_through_a_postgres_restart_resumes_and_loses_none(
    attempt, fault_db, private_postgres, app_processes, fault_outcome
):
    app_processes.start_worker()
    with fault_db.row_locked(SECOND_BATCH_ID):
        job_id = start_unsubscribe_job(app_processes)
        wait_for(
            lambda: (
                fault_db.job(job_id)["done"] == FIRST_BATCH
                and fault_db.waiting_for_locks() == 1
            ),
            what="the job to stop inside its second batch",
        )
        private_postgres.stop()
    private_postgres.start()
    # Whatever the job has done again by now, it is whole batches.
    assert subscription_state(fault_db)["half_written"] == 0

    job = wait_for(lambda: finished(fault_db, job_id), what="the job to finish")

    lost = fault_outcome.unsubscribes(
        expected=set(range(1, SEED_CONTACTS + 1)), recorded=unsubscribed_ids(fault_db)
    )
    assert lost == 0
    assert (job["state"], job["done"], job["changed"]) == (
        "done",
        SEED_CONTACTS,
        SEED_CONTACTS,
    )
    assert subscription_state(fault_db) == {
        "unsubscribed": SEED_CONTACTS,
        "half_written": 0,
        "history_rows": SEED_CONTACTS,
    }
