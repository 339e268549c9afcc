"""Every write of a contact's subscription status, each with its history row.

Contact.is_unsubscribed and subscription_changed_at are written here and only
here, always in the statement or transaction that inserts the matching history
row and the rows the subscription writers ask for (see unsubscribes.extensions).
"""

import datetime
import functools
import hashlib
import logging
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connection, models, transaction
from django.db.models import Field, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from compliance.models import Channel as ComplianceChannel
from compliance.rules import clean_compliance, current_values
from compliance.services import compliance_update
from contacts.choices import PermissionType
from contacts.models import Contact, column_name
from unsubscribes.choices import UNSUBSCRIBE_CHANNELS, Action, Channel
from unsubscribes.extensions import ChangeRows, change_rows
from unsubscribes.models import SentEmail, SubscriptionChange
from unsubscribes.selectors import latest_unsubscribe_at
from unsubscribes.storage import private_storage

logger = logging.getLogger(__name__)

# Contacts unsubscribed per UPDATE ... RETURNING and history INSERT; the same
# as the People list's bulk jobs (contacts.bulk), so one of their batches is
# one of these.
BATCH_SIZE = 5000

# The append-only trigger lets an UPDATE through only while this
# transaction-local flag is on; the compliance history uses the same flag.
REDACTION_FLAG = "salesinsight.history_redaction"


NOT_UNSUBSCRIBED = _(
    "This person is not unsubscribed: there is nothing to resubscribe."
)
CONSENT_BEFORE_UNSUBSCRIBE = _(
    "The consent must be on or after the latest unsubscribe, %(date)s."
)
HOW_OBTAINED_REQUIRED = _("Say how the consent was obtained.")
EVIDENCE_REQUIRED = _("Give an evidence note or upload an evidence file.")


@dataclass(frozen=True)
class ConsentProof:
    """What an Admin shows to prove a person consented again."""

    consent_date: datetime.date | None
    processing_purpose: str
    consent_obtained: str
    evidence_note: str = ""
    evidence_file: File | None = None


def _actor_name(actor: User | None, actor_name: str) -> str:
    name = actor_name or (actor.get_username() if actor is not None else "")
    if not name:
        raise ValueError("A subscription change needs an actor or an actor_name")
    return name


def _check_unsubscribe_channel(channel: str) -> None:
    if channel not in UNSUBSCRIBE_CHANNELS:
        raise ValueError(f"Not an unsubscribe channel: {channel!r}")


def contact_unsubscribe(
    *,
    contact_id: int,
    channel: str,
    actor: User | None = None,
    actor_name: str = "",
) -> bool:
    """Unsubscribe one contact and record it; return whether anything changed.

    An already unsubscribed contact gets no second history row. Raise
    Contact.DoesNotExist for an unknown id.

    This is the busiest public endpoint's write. On PostgreSQL the status,
    the history row and the writers' rows are one statement (see
    _unsubscribe_rows), atomic by itself and prepared once a connection:
    outside a caller's transaction it is one round trip, committed as it ends.
    """
    _check_unsubscribe_channel(channel)
    name = _actor_name(actor, actor_name)
    # A second click waits on the first one's row lock, then finds the row
    # already unsubscribed and changes nothing; a racing resubscribe is
    # serialised the same way (see _UNSUBSCRIBE_WITH_HISTORY).
    changed = _unsubscribe_rows(
        _one_contact_sql(),
        [contact_id],
        channel=channel,
        actor=actor,
        actor_name=name,
        prepared=True,
    )
    if not changed:
        # Only the repeated click pays for this read.
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"No contact {contact_id}")
        return False

    logger.info("Contact %s unsubscribed through %s", contact_id, channel)
    return True


@transaction.atomic
def contact_resubscribe(*, contact_id: int, actor: User, proof: ConsentProof) -> None:
    """Resubscribe an unsubscribed contact on proof of new consent (Admins only).

    In one transaction: the history row with the proof, the Permission type
    set to Consent with the proof's date and purpose (with its compliance
    history), and the unsubscribed status cleared. Raise PermissionDenied for
    anyone but an Admin and ValidationError({field: [messages]}) for a proof
    that does not hold; nothing is written then.
    """
    if not actor.has_perm("unsubscribes.resubscribe_contact"):
        raise PermissionDenied
    # The lock serialises this with a racing unsubscribe: if the unsubscribe
    # committed first, the checks below see it; if it comes later, it waits
    # for this transaction and then unsubscribes again. Both stay in history.
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if not contact.is_unsubscribed:
        raise ValidationError(NOT_UNSUBSCRIBED)
    _check_proof(contact, proof)

    compliance_update(
        contact_id=contact.pk,
        changes={
            "permission_type": PermissionType.CONSENT,
            "consent_date": proof.consent_date,
            "processing_purpose": proof.processing_purpose,
        },
        channel=ComplianceChannel.RESUBSCRIBE,
        actor=actor,
    )
    now = _database_now()
    change = SubscriptionChange(
        contact_id=contact.pk,
        changed_at=now,
        action=Action.RESUBSCRIBE,
        channel=Channel.ADMIN_RESUBSCRIBE,
        actor=actor,
        actor_name=actor.get_username(),
        consent_date=proof.consent_date,
        processing_purpose=proof.processing_purpose.strip(),
        consent_obtained=proof.consent_obtained.strip(),
        evidence_note=proof.evidence_note.strip(),
        evidence_file=proof.evidence_file,
    )
    change.full_clean()
    change.save()
    try:
        Contact.objects.filter(pk=contact.pk).update(
            is_unsubscribed=False, subscription_changed_at=now
        )
        extra_rows = change_rows(
            action=Action.RESUBSCRIBE, channel=Channel.ADMIN_RESUBSCRIBE
        )
        _change_rows_create(extra_rows, [contact.pk])
        _change_rows_committed(extra_rows, [contact.pk])
    except Exception:
        # The rollback forgets the row but not the file it just stored.
        change.evidence_file.delete(save=False)
        raise
    logger.info("Contact %s resubscribed by user %s", contact.pk, actor.pk)


def _database_now() -> datetime.datetime:
    """Return the database's clock, which unsubscribes also stamp their time with.

    One clock for every subscription change keeps the history's order true
    when a resubscribe and an unsubscribe meet on the row lock, even if the
    application servers' clocks drift from each other.
    """
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _check_proof(contact: Contact, proof: ConsentProof) -> None:
    errors: dict[str, list] = {}
    try:
        # The same rules as the Compliance card: a date, not in the future,
        # and a purpose of meaningful length.
        clean_compliance(
            {
                **current_values(contact),
                "permission_type": PermissionType.CONSENT,
                "consent_date": proof.consent_date,
                "processing_purpose": proof.processing_purpose,
            }
        )
    except ValidationError as error:
        errors.update(error.message_dict)

    latest = latest_unsubscribe_at(contact_id=contact.pk)
    if (
        latest is not None
        and isinstance(proof.consent_date, datetime.date)
        and proof.consent_date < timezone.localdate(latest)
    ):
        errors.setdefault("consent_date", []).append(
            CONSENT_BEFORE_UNSUBSCRIBE
            % {"date": date_format(timezone.localdate(latest), "DATE_FORMAT")}
        )
    if not proof.consent_obtained.strip():
        errors.setdefault("consent_obtained", []).append(HOW_OBTAINED_REQUIRED)
    if not proof.evidence_note.strip() and not proof.evidence_file:
        errors.setdefault("evidence_note", []).append(EVIDENCE_REQUIRED)
    if errors:
        raise ValidationError(errors)


def contacts_bulk_unsubscribe(
    *,
    contacts: QuerySet[Contact],
    channel: str = Channel.BULK,
    actor: User | None,
    actor_name: str = "",
) -> int:
    """Unsubscribe every contact of a selection; return how many changed.

    Set-based: per batch of BATCH_SIZE, one UPDATE ... RETURNING and one
    history INSERT, each batch in its own transaction (inside the caller's, if
    there is one). Contacts already unsubscribed are skipped, so running it
    again after an interruption finishes the job without duplicates.
    """
    _check_unsubscribe_channel(channel)
    name = _actor_name(actor, actor_name)
    total = 0
    while True:
        changed = _unsubscribe_batch(contacts, channel, actor, name)
        total += changed
        if changed < BATCH_SIZE:
            break
    logger.info("Unsubscribed %d contacts through %s", total, channel)
    return total


# `locked` holds a SELECT of the candidates' (id, is_unsubscribed) that locks
# their rows. The status is read from it, not re-read by the UPDATE's scan:
# a row lock returns the row as the transaction that held it left it, while
# the scan would see it as it was when the statement began. So a click that
# waited behind a resubscribe sees the contact subscribed, and unsubscribes
# them again (opt-out wins). The time is the database's clock once the lock
# is held, so that the history orders the two as they happened.
# On PostgreSQL the UPDATE's RETURNING feeds the history INSERT, and the
# writers' INSERTs ({written}), in the same statement: one round trip, and
# never a status without its rows.
_UNSUBSCRIBE_WITH_HISTORY = """
WITH locked (id, is_unsubscribed) AS ({candidates}), changed AS (
    UPDATE {contacts} AS contact
    SET is_unsubscribed = true, subscription_changed_at = clock_timestamp()
    FROM locked WHERE contact.id = locked.id AND NOT locked.is_unsubscribed
    RETURNING contact.id, contact.subscription_changed_at
), recorded AS (
    INSERT INTO {history} ({columns})
    SELECT changed.id, changed.subscription_changed_at, {values}
    FROM changed ORDER BY changed.id
){written}
SELECT id FROM changed ORDER BY id
"""
_WRITTEN = """, written_{index} AS (
    INSERT INTO {table} ({columns})
    SELECT changed.id, {values} FROM changed ORDER BY changed.id
)"""
# SQLite, the laptop default, has no data-modifying WITH (nor row locks: a
# write there holds the whole database).
_UNSUBSCRIBE_RETURNING = """
WITH locked (id, is_unsubscribed) AS ({candidates})
UPDATE {contacts} SET is_unsubscribed = %s, subscription_changed_at = %s
WHERE id IN (SELECT id FROM locked WHERE NOT is_unsubscribed) RETURNING id
"""
_ONE_CONTACT = "SELECT id, is_unsubscribed FROM {contacts} WHERE id = %s"
# The history columns that _UNSUBSCRIBE_WITH_HISTORY fills from `changed`.
_HISTORY_FROM_CHANGED = ("contact_id", "changed_at")


@functools.cache
def _insert_layout(
    model: type[models.Model], from_changed: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[Field, ...]]:
    """Return a table's quoted columns, those of `from_changed` first, and the
    fields whose values follow them.

    `from_changed` are attribute names, filled from the `changed` rows.
    Every column is named, so that a field added to the model is filled here
    too. Worked out once a process: this is the busiest write.
    """
    quote = connection.ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    by_attname = {field.attname: field for field in fields}
    passed = tuple(field for field in fields if field.attname not in from_changed)
    columns = tuple(
        quote(column_name(model, field.name))
        for field in (*(by_attname[name] for name in from_changed), *passed)
    )
    return columns, passed


def _insert_values(fields: Sequence[Field], values: Mapping[str, Any]) -> list[Any]:
    """Return the database values of `fields`, from `values` by attribute name.

    A field left out gets its default, or now for auto_now(_add), as
    Model.save() would give it.
    """
    now = timezone.now()
    prepared = []
    for field in fields:
        if field.attname in values:
            value = field.get_db_prep_save(values[field.attname], connection)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = field.get_db_prep_save(now, connection)
        else:
            value = _prepared_default(field)
        prepared.append(value)
    return prepared


def _prepared_default(field: Field) -> Any:
    """Return a field's default as the database takes it; once, if it is constant."""
    if field.has_default() and callable(field.default):
        return field.get_db_prep_save(field.get_default(), connection)
    return _constant_default(field)


@functools.cache
def _constant_default(field: Field) -> Any:
    return field.get_db_prep_save(field.get_default(), connection)


def _contact_attname(model: type[models.Model], field_name: str) -> str:
    """Return the attribute name of a writer's foreign key to the contact."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, models.ForeignKey):
        raise TypeError(f"{model.__name__}.{field_name} is not a foreign key")
    return field.attname


def _written_sql(extra_rows: Sequence[ChangeRows]) -> tuple[str, list[Any]]:
    """Return the WITH items inserting the writers' rows, and their values."""
    quote = connection.ops.quote_name
    parts, params = [], []
    for index, rows in enumerate(extra_rows):
        if rows.model is None:
            continue
        contact = _contact_attname(rows.model, rows.contact_field)
        columns, passed = _insert_layout(rows.model, (contact,))
        parts.append(
            _WRITTEN.format(
                index=index,
                table=quote(rows.model._meta.db_table),
                columns=", ".join(columns),
                values=", ".join(["%s"] * len(passed)),
            )
        )
        params += _insert_values(passed, rows.values)
    return "".join(parts), params


def _change_rows_create(extra_rows: Sequence[ChangeRows], ids: Sequence[int]) -> None:
    """Insert the writers' rows for contacts that changed, through the ORM."""
    for rows in extra_rows:
        model = rows.model
        if model is None:
            continue
        contact = _contact_attname(model, rows.contact_field)
        model._default_manager.bulk_create(
            [model(**{**rows.values, contact: contact_id}) for contact_id in ids],
            batch_size=1000,
        )


def _change_rows_committed(extra_rows: Sequence[ChangeRows], ids: list[int]) -> None:
    """Tell the writers which contacts changed once that is committed."""
    if not ids:
        return
    for rows in extra_rows:
        if rows.on_commit is not None:
            transaction.on_commit(functools.partial(rows.on_commit, ids))


def _unsubscribe_rows(
    candidates: str,
    candidate_params: Sequence[Any],
    *,
    channel: str,
    actor: User | None,
    actor_name: str,
    prepared: bool = False,
) -> list[int]:
    """Unsubscribe the subscribed ones of `candidates`; return their ids.

    `candidates` selects (id, is_unsubscribed) of contacts and locks their
    rows (see _UNSUBSCRIBE_WITH_HISTORY). It is SQL written by this module
    or compiled by Django, with placeholders only: every value is in
    `candidate_params`. On PostgreSQL this is one statement, atomic by
    itself, run as a prepared statement if `prepared` (for SQL of this
    module only: see _execute_prepared); elsewhere several, in a
    transaction of their own.
    """
    history_values = {
        "action": Action.UNSUBSCRIBE,
        "channel": channel,
        "actor_id": actor.pk if actor is not None else None,
        "actor_name": actor_name,
    }
    extra_rows = change_rows(action=Action.UNSUBSCRIBE, channel=channel)
    quote = connection.ops.quote_name
    contacts = quote(Contact._meta.db_table)

    if connection.vendor != "postgresql":
        now = timezone.now()
        statement = _UNSUBSCRIBE_RETURNING.format(
            candidates=candidates, contacts=contacts
        )
        stamp = connection.ops.adapt_datetimefield_value(now)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [*candidate_params, True, stamp])
                ids = sorted(row[0] for row in cursor.fetchall())
            SubscriptionChange.objects.bulk_create(
                SubscriptionChange(
                    contact_id=contact_id, changed_at=now, **history_values
                )
                for contact_id in ids
            )
            _change_rows_create(extra_rows, ids)
            _change_rows_committed(extra_rows, ids)
        return ids

    columns, passed = _insert_layout(SubscriptionChange, _HISTORY_FROM_CHANGED)
    written, written_params = _written_sql(extra_rows)
    statement = _UNSUBSCRIBE_WITH_HISTORY.format(
        candidates=candidates,
        contacts=contacts,
        history=quote(SubscriptionChange._meta.db_table),
        columns=", ".join(columns),
        values=", ".join(["%s"] * len(passed)),
        written=written,
    )
    params = [
        *candidate_params,
        *_insert_values(passed, history_values),
        *written_params,
    ]
    with connection.cursor() as cursor:
        if prepared:
            _execute_prepared(cursor, statement, params)
        else:
            cursor.execute(statement, params)
        ids = [row[0] for row in cursor.fetchall()]
    _change_rows_committed(extra_rows, ids)
    return ids


# The names of the statements prepared on each PostgreSQL connection, keyed by
# the driver's connection: one that Django opens anew starts with none.
_prepared_names: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def _execute_prepared(cursor: Any, statement: str, params: Sequence[Any]) -> None:
    """Run `statement` as a statement prepared once on this connection.

    PostgreSQL then plans the unsubscribe once a connection instead of once
    a click: about a quarter of its time for one. `statement` must be SQL of
    this module, whose only % signs are its placeholders. A connection pooler
    that forgets prepared statements between transactions (PgBouncer's
    transaction mode before 1.21) would break this; the app connects to
    PostgreSQL directly.
    """
    digest = hashlib.blake2b(statement.encode(), digest_size=8).hexdigest()
    name = f"unsubscribe_{digest}"
    names = _prepared_names.setdefault(connection.connection, set())
    if name not in names:
        pieces = statement.split("%s")
        numbered = "".join(
            f"{piece}${number}" for number, piece in enumerate(pieces[:-1], start=1)
        )
        cursor.execute(f"PREPARE {name} AS {numbered}{pieces[-1]}")
        names.add(name)
    placeholders = ", ".join(["%s"] * len(params))
    cursor.execute(f"EXECUTE {name}({placeholders})", params)


def _one_contact_sql() -> str:
    """Return the candidates SELECT of one contact, by id, locking its row.

    Written out rather than compiled by the ORM on every call: it is the
    public unsubscribe's hot path.
    """
    sql = _ONE_CONTACT.format(
        contacts=connection.ops.quote_name(Contact._meta.db_table)
    )
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql


@transaction.atomic
def _unsubscribe_batch(
    contacts: QuerySet[Contact], channel: str, actor: User | None, actor_name: str
) -> int:
    candidates = (
        contacts.filter(is_unsubscribed=False)
        .order_by("pk")
        .values_list("pk", "is_unsubscribed")
    )
    # Locking the batch in id order keeps two overlapping bulk runs (or a bulk
    # run and a single unsubscribe) from deadlocking.
    candidates = candidates.select_for_update(of=("self",))[:BATCH_SIZE]
    sql, params = candidates.query.sql_with_params()
    ids = _unsubscribe_rows(
        sql, params, channel=channel, actor=actor, actor_name=actor_name
    )
    return len(ids)


@transaction.atomic
def subscription_history_redact(*, contact_ids: Sequence[int]) -> None:
    """Forget what this app holds about erased contacts (an erasure hook).

    Their sent-email records go; their history rows stay (an unsubscribe
    happened, when, through which channel, by whom) but are unlinked from the
    person, with the free text of the proof and the evidence file removed.
    """
    ids = list(contact_ids)
    if not ids:
        return
    history = SubscriptionChange.objects.filter(contact_id__in=ids)
    files = list(
        history.exclude(evidence_file="").values_list("evidence_file", flat=True)
    )
    SentEmail.objects.filter(contact_id__in=ids).delete()

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL {REDACTION_FLAG} = 'on'")
        count = history.update(
            contact=None,
            processing_purpose="",
            consent_obtained="",
            evidence_note="",
            evidence_file="",
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL {REDACTION_FLAG} = 'off'")

    # Files go only once the erasure is committed: a rolled-back erasure must
    # leave the evidence its rows still point to.
    transaction.on_commit(lambda: _delete_files(files))
    logger.info("Redacted %d subscription history rows of %d contacts", count, len(ids))


def _delete_files(names: list[str]) -> None:
    for name in names:
        private_storage.delete(name)
    if names:
        logger.info("Deleted %d evidence files of erased contacts", len(names))
