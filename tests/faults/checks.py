"""What the fault tests start and what they check afterwards, in plain SQL.

The seeded database holds SEED_CONTACTS contacts with ids 1..12,000, all with
Permission type Not set, compliance version 0 and subscribed: three batches of
a bulk job (5,000, 5,000 and 2,000).
"""

from tests.plugins.private_services import SEED_CONTACTS, FaultDatabase

PERMISSION_URL = "/compliance/bulk/permission/"
UNSUBSCRIBE_URL = "/people/bulk/unsubscribe/"
NEW_PERMISSION = "legitimate_interest"
ALL = {"scope": "all", "filter": "", "step": "apply"}
# A contact in the middle of the second batch: holding its lock stops a job
# after its first batch committed, part-way into the second.
SECOND_BATCH_ID = 7000
FIRST_BATCH = 5000


def start_permission_job(app_processes, data: dict | None = None) -> int:
    """Apply "Legitimate interest" to every contact; return the queued job's id."""
    answer = app_processes.driver(
        "post",
        path=PERMISSION_URL,
        data={**ALL, "permission_type": NEW_PERMISSION, **(data or {})},
    )
    assert answer["status"] == 302, answer
    return int(answer["location"].rstrip("/").rsplit("/", 1)[1])


def start_unsubscribe_job(app_processes) -> int:
    """Unsubscribe every contact in bulk; return the queued job's id."""
    answer = app_processes.driver("post", path=UNSUBSCRIBE_URL, data=ALL)
    assert answer["status"] == 302, answer
    return int(answer["location"].rstrip("/").rsplit("/", 1)[1])


def compliance_state(db: FaultDatabase) -> dict[str, int]:
    """Count changed contacts, and contacts whose change and history disagree.

    A contact is whole when it either holds the new Permission type with
    exactly one bulk history row and compliance version 1, or holds neither
    the value, nor a history row, nor a new version.
    """
    changed, broken = db.rows(
        """
        SELECT
          count(*) FILTER (WHERE c.permission_type = %(new)s),
          count(*) FILTER (WHERE
            (c.permission_type = %(new)s
             AND (h.rows IS DISTINCT FROM 1 OR c.compliance_version <> 1))
            OR (c.permission_type <> %(new)s
             AND (h.rows IS NOT NULL OR c.compliance_version <> 0)))
        FROM contacts_contact c
        LEFT JOIN (
          SELECT contact_id, count(*) AS rows FROM compliance_compliancechange
          WHERE channel = 'bulk' AND field = 'permission_type'
            AND new_value = %(new)s
          GROUP BY contact_id
        ) h ON h.contact_id = c.id
        """,
        {"new": NEW_PERMISSION},
    )[0]
    history = db.value("SELECT count(*) FROM compliance_compliancechange")
    return {"changed": changed, "half_written": broken, "history_rows": history}


def unsubscribed_ids(db: FaultDatabase) -> set[int]:
    """Return the contacts that are unsubscribed with exactly one history row."""
    return {
        row[0]
        for row in db.rows(
            """
            SELECT c.id FROM contacts_contact c
            JOIN unsubscribes_subscriptionchange h ON h.contact_id = c.id
            WHERE c.is_unsubscribed AND h.action = 'unsubscribe'
            GROUP BY c.id HAVING count(*) = 1
            """
        )
    }


def subscription_state(db: FaultDatabase) -> dict[str, int]:
    """Count unsubscribed contacts, history rows, and contacts out of step."""
    unsubscribed, broken = db.rows(
        """
        SELECT
          count(*) FILTER (WHERE c.is_unsubscribed),
          count(*) FILTER (WHERE
            (c.is_unsubscribed AND h.rows IS DISTINCT FROM 1)
            OR (NOT c.is_unsubscribed AND h.rows IS NOT NULL))
        FROM contacts_contact c
        LEFT JOIN (
          SELECT contact_id, count(*) AS rows FROM unsubscribes_subscriptionchange
          WHERE action = 'unsubscribe' GROUP BY contact_id
        ) h ON h.contact_id = c.id
        """
    )[0]
    history = db.value("SELECT count(*) FROM unsubscribes_subscriptionchange")
    return {
        "unsubscribed": unsubscribed,
        "half_written": broken,
        "history_rows": history,
    }


def finished(db: FaultDatabase, job_id: int) -> dict | None:
    job = db.job(job_id)
    return job if job["state"] in ("done", "failed") else None


ALL_CHANGED = {
    "changed": SEED_CONTACTS,
    "half_written": 0,
    "history_rows": SEED_CONTACTS,
}
