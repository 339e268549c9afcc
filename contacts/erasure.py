"""Erase contacts: their rows and personal data go, a suppression hash stays."""

import logging
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import connection, transaction

from contacts.extensions import CONTACTS_ERASING, run_hooks
from contacts.models import Contact, Erasure, Suppression
from contacts.suppression import email_hash

logger = logging.getLogger(__name__)


class ErasureChannel:
    PERSON = "person"
    BULK = "bulk"
    ADMIN = "admin"


@transaction.atomic
def contacts_erase(
    *,
    contact_ids: Sequence[int],
    channel: str,
    actor: User | None = None,
    actor_name: str = "",
) -> int:
    """Erase these contacts; return how many were erased.

    In one transaction: the apps above contacts remove or redact what they
    hold about these people (the CONTACTS_ERASING hooks), the rows are
    deleted, a keyed hash of each email is kept as a suppression entry, and an
    Erasure record without personal data notes how many went, by whom.
    """
    name = actor_name or (actor.get_username() if actor is not None else "")
    if not name:
        raise ValueError("An erasure needs an actor or an actor_name")

    # Locks in id order, as every bulk path takes them, so two erasures or a
    # bulk update on overlapping contacts queue up instead of deadlocking.
    rows = list(
        Contact.objects.filter(id__in=list(contact_ids))
        .order_by("id")
        .select_for_update()
        .values_list("id", "email")
    )
    if not rows:
        return 0
    ids = [contact_id for contact_id, _ in rows]

    run_hooks(CONTACTS_ERASING, contact_ids=ids)
    Suppression.objects.bulk_create(
        [Suppression(email_hash=email_hash(email)) for _, email in rows],
        ignore_conflicts=True,
    )
    # One DELETE, not Django's cascade collector (a statement per 100 rows
    # and per related model): removing or unlinking the rows that reference
    # these contacts is each app's CONTACTS_ERASING hook's job. Checking the
    # foreign keys now rather than at commit makes a forgotten reference fail
    # here, rolling the whole erasure back.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    Contact.objects.filter(id__in=ids)._raw_delete(connection.alias)
    Erasure.objects.create(
        count=len(ids), actor=actor, actor_name=name, channel=channel
    )

    logger.info("Erased %d contacts (channel %s)", len(ids), channel)
    return len(ids)
