"""Bulk Permission update with its history, against hand-written SQL.

Every run changes the same contacts from the same starting state: each runs in
a transaction that is rolled back, measurement and baselines alike.
"""

from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from bench.harness import Report, Row, measure, measure_side_by_side
from compliance.models import Channel, ComplianceChange
from compliance.services import compliance_bulk_update
from contacts.choices import PermissionType
from contacts.models import Contact

SELECTION = 100_000
# The per-row loop is what a naive implementation does; it is timed on this
# many contacts and scaled up, since the full selection would take minutes.
LOOP_SAMPLE = 1_000
NEW_TYPE = PermissionType.LEGITIMATE_INTEREST
CLEARED = ("consent_date", "consent_expires_on")
BLANKED = ("processing_purpose", "permission_type_description")

HAND_WRITTEN_SQL = """
    WITH old AS (
        SELECT id, permission_type, consent_date, consent_expires_on,
               processing_purpose, permission_type_description
        FROM contacts_contact
        WHERE id <= %(last_id)s
          AND (permission_type <> %(new)s OR consent_date IS NOT NULL
               OR consent_expires_on IS NOT NULL OR processing_purpose <> ''
               OR permission_type_description <> '')
        FOR UPDATE
    ),
    upd AS (
        UPDATE contacts_contact c
        SET permission_type = %(new)s, consent_date = NULL,
            consent_expires_on = NULL, processing_purpose = '',
            permission_type_description = '',
            compliance_version = c.compliance_version + 1, updated_at = %(now)s
        FROM old WHERE c.id = old.id
        RETURNING old.*
    )
    INSERT INTO compliance_compliancechange
        (contact_id, actor_id, actor_name, channel, field, old_value, new_value,
         changed_at)
    SELECT upd.id, NULL, 'bench', 'bulk', f.field, f.old_value, f.new_value, %(now)s
    FROM upd CROSS JOIN LATERAL (VALUES
        ('permission_type', upd.permission_type::text, %(new)s),
        ('consent_date', COALESCE(to_char(upd.consent_date, 'YYYY-MM-DD'), ''), ''),
        ('consent_expires_on',
         COALESCE(to_char(upd.consent_expires_on, 'YYYY-MM-DD'), ''), ''),
        ('processing_purpose', upd.processing_purpose, ''),
        ('permission_type_description', upd.permission_type_description, '')
    ) AS f(field, old_value, new_value)
    WHERE f.old_value <> f.new_value
"""


def _rolled_back(action: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        with transaction.atomic():
            action()
            transaction.set_rollback(True)

    return run


def _service(last_id: int) -> None:
    compliance_bulk_update(
        contacts=Contact.objects.filter(id__lte=last_id),
        changes={"permission_type": NEW_TYPE},
        channel=Channel.BULK,
        actor_name="bench",
    )


def _hand_written(last_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            HAND_WRITTEN_SQL,
            {"last_id": last_id, "new": NEW_TYPE, "now": timezone.now()},
        )


def _per_row_loop(last_id: int) -> None:
    """Save each contact and its history rows one at a time, as peers do."""
    for contact in Contact.objects.filter(id__lte=last_id).order_by("id"):
        old = {
            field: getattr(contact, field)
            for field in ("permission_type", *CLEARED, *BLANKED)
        }
        contact.permission_type = NEW_TYPE
        for field in CLEARED:
            setattr(contact, field, None)
        for field in BLANKED:
            setattr(contact, field, "")
        if all(old[field] == getattr(contact, field) for field in old):
            continue
        contact.compliance_version += 1
        contact.save()
        for field, value in old.items():
            if value != getattr(contact, field):
                ComplianceChange.objects.create(
                    contact=contact,
                    actor_name="bench",
                    channel=Channel.BULK,
                    field=field,
                    old_value="" if value is None else str(value),
                    new_value=str(getattr(contact, field) or ""),
                    changed_at=timezone.now(),
                )


def run(report: Report, *, size: int, runs: int) -> None:
    selection = min(SELECTION, size)
    sample = min(LOOP_SAMPLE, selection)

    service, hand = measure_side_by_side(
        [
            _rolled_back(lambda: _service(selection)),
            _rolled_back(lambda: _hand_written(selection)),
        ],
        runs=runs,
    )
    loop = measure(_rolled_back(lambda: _per_row_loop(sample)), runs=max(1, runs // 2))
    scaled_loop = loop.median * selection / sample

    report.add(
        Row(
            f"Bulk Permission update of {selection:,} contacts vs hand-written SQL",
            service.median,
            hand.median,
            "s",
            target=2.0,
            noisy=service.noisy or hand.noisy,
        )
    )
    report.add(
        Row(
            f"Per-row save() loop on {sample:,}, scaled to {selection:,}, "
            "vs hand-written SQL",
            scaled_loop,
            hand.median,
            "s",
            target=None,
            noisy=loop.noisy,
            note=f"what peers do; the service is {scaled_loop / service.median:.0f}x "
            "faster",
        )
    )
