"""Every write of a contact's compliance fields, each with its history rows."""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from compliance.models import Channel, ComplianceChange
from compliance.rules import (
    COMPLIANCE_FIELDS,
    DATE_FIELDS,
    DEFAULTS,
    FREE_TEXT_FIELDS,
    PERMISSION_FIELDS,
    REQUIRED,
    SOURCE_FIELDS,
    as_text,
    clean_compliance,
    current_values,
)
from contacts.models import Contact

logger = logging.getLogger(__name__)

ERASED = "[erased]"
# Saving the card, resubscribing with proof and re-confirming are decisions
# about the person: they restart the retention review (contacts.retention).
ACTIVITY_CHANNELS = frozenset({Channel.CARD, Channel.RESUBSCRIBE, Channel.REVIEW})


class StaleEdit(Exception):
    """The contact's compliance changed since the form was rendered."""

    def __init__(self, contact: Contact) -> None:
        super().__init__(
            f"Contact {contact.pk} is at version {contact.compliance_version}"
        )
        self.contact = contact


def _actor_name(actor: User | None, actor_name: str, channel: str) -> str:
    if channel not in Channel.values:
        raise ValueError(f"Unknown compliance channel: {channel!r}")
    name = actor_name or (actor.get_username() if actor is not None else "")
    if not name:
        raise ValueError("A compliance change needs an actor or an actor_name")
    return name


@transaction.atomic
def compliance_update(
    *,
    contact_id: int,
    changes: Mapping[str, Any],
    channel: str,
    actor: User | None = None,
    actor_name: str = "",
    expected_version: int | None = None,
) -> Contact:
    """Change one contact's compliance fields and record each changed field.

    Raise StaleEdit when expected_version is not the contact's current version,
    ValidationError when the merged values break the rules; nothing is written
    in either case, and nothing when no value changes.
    """
    name = _actor_name(actor, actor_name, channel)
    # The lock serialises concurrent editors (and bulk updates) of this row,
    # so the version check and the old values in the history stay true.
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if expected_version is not None and contact.compliance_version != expected_version:
        raise StaleEdit(contact)

    before = current_values(contact)
    after = clean_compliance({**before, **changes})
    changed = [field for field in COMPLIANCE_FIELDS if after[field] != before[field]]
    if not changed:
        return contact

    now = timezone.now()
    for field in changed:
        setattr(contact, field, after[field])
    contact.compliance_version += 1
    update_fields = [*changed, "compliance_version", "updated_at"]
    if channel in ACTIVITY_CHANNELS:
        contact.last_activity_at = now
        update_fields.append("last_activity_at")
    contact.save(update_fields=update_fields)

    ComplianceChange.objects.bulk_create(
        ComplianceChange(
            contact_id=contact.pk,
            actor=actor,
            actor_name=name,
            channel=channel,
            field=field,
            old_value=as_text(before[field]),
            new_value=as_text(after[field]),
            changed_at=now,
        )
        for field in changed
    )
    logger.info(
        "Compliance of contact %s changed: %d fields via %s",
        contact.pk,
        len(changed),
        channel,
    )
    return contact


@transaction.atomic
def compliance_bulk_reconfirm(
    *, contacts: QuerySet[Contact], actor: User | None = None, actor_name: str = ""
) -> int:
    """Record that these contacts' legal basis was reviewed and still holds.

    The retention review starts again: last activity becomes now. Each
    contact gets a history row (channel "Retention review", field "last
    activity", from the previous activity date to today) naming who decided.
    Set-based: one locking read, one history INSERT and one UPDATE per call.
    """
    name = _actor_name(actor, actor_name, Channel.REVIEW)
    now = timezone.now()
    rows = list(
        contacts.order_by("id")
        .select_for_update()
        .values_list("id", "last_activity_at")
    )
    if not rows:
        return 0

    ComplianceChange.objects.bulk_create(
        ComplianceChange(
            contact_id=contact_id,
            actor=actor,
            actor_name=name,
            channel=Channel.REVIEW,
            field="last_activity_at",
            old_value=last_activity.date().isoformat() if last_activity else "",
            new_value=now.date().isoformat(),
            changed_at=now,
        )
        for contact_id, last_activity in rows
    )
    Contact.objects.filter(id__in=[contact_id for contact_id, _ in rows]).update(
        last_activity_at=now, updated_at=now
    )
    logger.info("Re-confirmed %d contacts after a retention review", len(rows))
    return len(rows)


def _bulk_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Return the full, clean values of each field group that changes touch.

    A bulk change sets a whole group at once (the Permission type with its
    dependent fields, or the Source type with its description), so the values
    written are the same for every contact and are validated once.
    """
    groups = [
        group
        for group in (PERMISSION_FIELDS, SOURCE_FIELDS)
        if set(changes) & set(group)
    ]
    if not groups or set(changes) - set(COMPLIANCE_FIELDS):
        raise ValueError(f"Not a bulk compliance change: {sorted(changes)}")
    for group in groups:
        if group[0] not in changes:
            raise ValidationError({group[0]: [REQUIRED]})
    cleaned = clean_compliance({**DEFAULTS, **changes})
    return {field: cleaned[field] for group in groups for field in group}


@transaction.atomic
def compliance_bulk_update(
    *,
    contacts: QuerySet[Contact],
    changes: Mapping[str, Any],
    channel: str,
    actor: User | None = None,
    actor_name: str = "",
    batch_size: int = 10_000,
) -> int:
    """Set the same compliance values on many contacts; return how many changed.

    Set-based: a constant number of statements per batch of contacts, whatever
    its size. Contacts that already hold the values get neither a history row
    nor a new compliance version.
    """
    name = _actor_name(actor, actor_name, channel)
    values = _bulk_values(changes)
    write = _bulk_batch_postgresql if connection.vendor == "postgresql" else _bulk_batch
    ids = contacts.order_by("id").values("id")

    changed = 0
    last_id = 0
    while True:
        batch = ids.filter(id__gt=last_id)[:batch_size]
        selected, batch_last_id, batch_changed = write(
            batch, values, actor, name, channel, timezone.now()
        )
        changed += batch_changed
        if selected < batch_size:
            break
        last_id = batch_last_id

    logger.info("Compliance changed for %d contacts via %s", changed, channel)
    return changed


def _bulk_batch_postgresql(batch, values, actor, actor_name, channel, now):
    """Lock, update and record one batch in a single statement.

    The CTE reads the old values under FOR UPDATE (after waiting for a
    concurrent writer it sees that writer's committed values), updates only
    rows that differ and inserts one history row per changed field.
    """
    contact_table = connection.ops.quote_name(Contact._meta.db_table)
    history_table = connection.ops.quote_name(ComplianceChange._meta.db_table)
    fields = list(values)
    columns = {
        f: connection.ops.quote_name(Contact._meta.get_field(f).column) for f in fields
    }
    batch_sql, batch_params = batch.query.sql_with_params()

    differs = " OR ".join(f"c.{columns[f]} IS DISTINCT FROM %s" for f in fields)
    assignments = ", ".join(f"{columns[f]} = %s" for f in fields)
    pairs = ", ".join(f"(%s, {_as_text_sql(f, columns[f])}, %s)" for f in fields)
    # Identifiers come from the models' metadata, quoted; every value is a
    # parameter.
    sql = f"""
        WITH batch(id) AS ({batch_sql}),
        old AS (
            SELECT c.id, {", ".join(f"c.{columns[f]}" for f in fields)}
            FROM {contact_table} c JOIN batch ON batch.id = c.id
            WHERE {differs}
            -- Rows are locked in id order, as every bulk path locks them,
            -- so overlapping bulk writes queue up instead of deadlocking.
            ORDER BY c.id
            FOR UPDATE OF c
        ),
        upd AS (
            UPDATE {contact_table} c
            SET {assignments},
                compliance_version = c.compliance_version + 1,
                updated_at = %s
            FROM old WHERE c.id = old.id
            RETURNING c.id
        ),
        ins AS (
            INSERT INTO {history_table}
                (contact_id, actor_id, actor_name, channel, field,
                 old_value, new_value, changed_at)
            SELECT old.id, %s, %s, %s, f.field, f.old_value, f.new_value, %s
            FROM old CROSS JOIN LATERAL (VALUES {pairs})
                AS f(field, old_value, new_value)
            WHERE f.old_value <> f.new_value
        )
        SELECT (SELECT count(*) FROM batch), (SELECT max(id) FROM batch),
               (SELECT count(*) FROM upd)
    """  # noqa: S608  # nosec B608
    params = [
        *batch_params,
        *(values[f] for f in fields),
        *(values[f] for f in fields),
        now,
        actor.pk if actor is not None else None,
        actor_name,
        channel,
        now,
    ]
    for f in fields:
        params += [f, as_text(values[f])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        selected, last_id, changed = cursor.fetchone()
    return selected, last_id or 0, changed


def _as_text_sql(field: str, column: str) -> str:
    """Return SQL rendering old.column as as_text() renders the value."""
    if field in DATE_FIELDS:
        # Not ::text, whose output follows the server's DateStyle.
        return f"COALESCE(to_char(old.{column}, 'YYYY-MM-DD'), '')"
    return f"old.{column}::text"


def _bulk_batch(batch, values, actor, actor_name, channel, now):
    """Do what the PostgreSQL statement does on SQLite, in a few statements.

    SQLite serialises writers, so no row lock is needed; every statement
    reads the batch before the UPDATE changes it.
    """
    contact_table = connection.ops.quote_name(Contact._meta.db_table)
    history_table = connection.ops.quote_name(ComplianceChange._meta.db_table)
    columns = {
        f: connection.ops.quote_name(Contact._meta.get_field(f).column) for f in values
    }
    batch_sql, batch_params = batch.query.sql_with_params()
    in_batch = f"id IN ({batch_sql})"
    differs = " OR ".join(f"{columns[f]} IS NOT %s" for f in values)

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), max(id) FROM ({batch_sql})",  # noqa: S608  # nosec B608
            batch_params,
        )
        selected, last_id = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM {contact_table} "  # noqa: S608  # nosec B608
            f"WHERE {in_batch} AND ({differs})",
            [*batch_params, *values.values()],
        )
        (changed,) = cursor.fetchone()
        for field, value in values.items():
            column = columns[field]
            cursor.execute(
                f"""
                INSERT INTO {history_table}
                    (contact_id, actor_id, actor_name, channel, field,
                     old_value, new_value, changed_at)
                SELECT id, %s, %s, %s, %s, COALESCE({column}, ''), %s, %s
                FROM {contact_table}
                WHERE {in_batch} AND {column} IS NOT %s
                """,  # noqa: S608  # nosec B608
                [
                    actor.pk if actor is not None else None,
                    actor_name,
                    channel,
                    field,
                    as_text(value),
                    now,
                    *batch_params,
                    value,
                ],
            )
    Contact.objects.filter(pk__in=batch).filter(
        Q.create([~Q(**{field: value}) for field, value in values.items()], Q.OR)
    ).update(**values, compliance_version=F("compliance_version") + 1, updated_at=now)
    return selected, last_id or 0, changed


@transaction.atomic
def compliance_history_redact(*, contact_ids: Sequence[int]) -> None:
    """Unlink erased contacts from their history and blank the text they typed.

    The rows stay (what changed, when, by whom, through which channel), but
    none of them can be traced to the person or holds their free text.
    """
    ids = list(contact_ids)
    if not ids:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger lets an UPDATE through only while this
            # transaction-local flag is on; it is turned off again right after,
            # so nothing else in the erasure transaction can edit history.
            cursor.execute("SET LOCAL salesinsight.history_redaction = 'on'")
        history = ComplianceChange.objects.filter(contact_id__in=ids)
        free_text = history.filter(field__in=FREE_TEXT_FIELDS)
        free_text.exclude(old_value="").update(old_value=ERASED)
        free_text.exclude(new_value="").update(new_value=ERASED)
        count = history.update(contact_id=None)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL salesinsight.history_redaction = 'off'")
    logger.info("Redacted %d compliance history rows of %d contacts", count, len(ids))


def compliance_record_created(
    *,
    contact_ids: Sequence[int],
    channel: str,
    actor: User | None = None,
    actor_name: str = "",
    **kwargs: Any,
) -> None:
    """Record the compliance values that new contacts start with (a hook).

    Each field that differs from its default gets a row, old value the
    default, so a contact's history starts where the contact did.
    """
    if actor is None and not actor_name:
        actor_name = channel.replace("_", "-")
    name = _actor_name(actor, actor_name, channel)
    now = timezone.now()
    rows = Contact.objects.filter(pk__in=list(contact_ids)).values(
        "pk", *COMPLIANCE_FIELDS
    )
    ComplianceChange.objects.bulk_create(
        ComplianceChange(
            contact_id=row["pk"],
            actor=actor,
            actor_name=name,
            channel=channel,
            field=field,
            old_value=as_text(DEFAULTS[field]),
            new_value=as_text(row[field]),
            changed_at=now,
        )
        for row in rows
        for field in COMPLIANCE_FIELDS
        if row[field] != DEFAULTS[field]
    )
