"""Pull: read Contacts and Leads changed in Salesforce and apply their opt-outs.

Opt-out wins. A record opted out in Salesforce unsubscribes its local contact
(channel "Salesforce sync") unless an Admin resubscribed the contact after the
record last changed. A record not opted out never resubscribes anyone; if the
local contact is unsubscribed, the opt-out is pushed back to it.

Each page is applied in one transaction with the watermark it reached, so a
crash resumes after the last applied page; applying a page again changes
nothing, which makes the overlap window harmless.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from simple_salesforce import format_soql

from contacts import extensions
from contacts.choices import SourceType
from contacts.models import Contact
from contacts.selectors import suppressed_hashes
from contacts.suppression import email_hash
from salesforce_sync import records
from salesforce_sync.client import SalesforceClient
from salesforce_sync.models import (
    OutboxEntry,
    OutboxReason,
    OutboxStatus,
    SyncRun,
    SyncState,
)
from unsubscribes.choices import Channel
from unsubscribes.services import contacts_bulk_unsubscribe

logger = logging.getLogger(__name__)

_EXTRA_FIELDS = {
    "Contact": ("FirstName", "LastName"),
    "Lead": ("FirstName", "LastName", "Company"),
}


@dataclass(frozen=True)
class Change:
    """One Salesforce record as the pull reads it."""

    salesforce_id: str
    email: str
    opted_out: bool
    modified: datetime
    raw: dict[str, Any]


def pull_changes(client: SalesforceClient, run: SyncRun, state: SyncState) -> None:
    """Read Contacts and Leads changed since the watermarks and apply them.

    One Composite Batch request reads the first page of both, so a pull with
    nothing changed costs a single request.
    """
    opt_out_field = records.opt_out_field()
    soqls = [
        _changes_query(sobject, opt_out_field, state.watermark(sobject))
        for sobject in records.SOBJECTS
    ]
    for index, page in client.query_pages_together(soqls):
        changes = [
            Change(
                salesforce_id=record["Id"],
                email=(record.get("Email") or "").strip().lower(),
                opted_out=record.get(opt_out_field) is True,
                modified=records.parse_datetime(record["SystemModstamp"]),
                raw=record,
            )
            for record in page
        ]
        _apply_page(run, state, records.SOBJECTS[index], changes)


def _changes_query(sobject: str, opt_out_field: str, watermark: datetime | None) -> str:
    names = ", ".join(
        ("Id", "Email", opt_out_field, "SystemModstamp", *_EXTRA_FIELDS[sobject])
    )
    soql = format_soql("SELECT {:literal} FROM {:literal}", names, sobject)
    if watermark is not None:
        since = records.soql_datetime(watermark - records.OVERLAP)
        soql += f" WHERE SystemModstamp > {since}"
    return soql + " ORDER BY SystemModstamp"


@transaction.atomic
def _apply_page(
    run: SyncRun, state: SyncState, sobject: str, changes: list[Change]
) -> None:
    if not changes:
        return
    columns = (
        "id",
        "email",
        "salesforce_id",
        "is_unsubscribed",
        "subscription_changed_at",
    )
    ids = [c.salesforce_id for c in changes]
    linked = {
        row["salesforce_id"][:15]: row
        for row in Contact.objects.filter(
            salesforce_id__in=ids + [i[:15] for i in ids]
        ).values(*columns)
    }
    unlinked = [c for c in changes if c.salesforce_id[:15] not in linked and c.email]
    by_email = {
        row["email_lower"]: row
        for row in Contact.objects.alias()
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=[c.email for c in unlinked])
        .values(*columns, "email_lower")
    }

    to_link: dict[int, str] = {}
    to_unsubscribe: set[int] = set()
    to_push_back: set[int] = set()
    unknown: list[Change] = []
    for change in changes:
        contact = linked.get(change.salesforce_id[:15])
        # Only the contact's own record may be overwritten by a push back; a
        # record found by email may still opt its person out.
        own_record = contact is not None
        if contact is None:
            contact = by_email.get(change.email)
            if contact is None:
                unknown.append(change)
                continue
            if not contact["salesforce_id"] and contact["id"] not in to_link:
                to_link[contact["id"]] = change.salesforce_id
                own_record = True

        if change.opted_out:
            if contact["is_unsubscribed"]:
                continue
            if records.is_later(contact["subscription_changed_at"], change.modified):
                # An Admin resubscribed after this record changed: the
                # resubscribe goes to Salesforce, the old opt-out stays here.
                to_push_back.add(contact["id"])
            else:
                to_unsubscribe.add(contact["id"])
        elif contact["is_unsubscribed"] and own_record:
            to_push_back.add(contact["id"])

    _link(to_link)
    if to_unsubscribe:
        run.received += contacts_bulk_unsubscribe(
            contacts=Contact.objects.filter(pk__in=to_unsubscribe),
            channel=Channel.SALESFORCE_SYNC,
            actor=None,
            actor_name=records.ACTOR_NAME,
        )
    _queue_push_back(to_push_back - to_unsubscribe)
    if unknown and settings.SALESFORCE_CREATE_UNKNOWN_CONTACTS:
        run.received += _create_unknown(sobject, unknown)

    newest = max(c.modified for c in changes)
    current = state.watermark(sobject)
    if current is None or newest > current:
        setattr(state, f"{sobject.lower()}_watermark", newest)
        state.save(update_fields=[f"{sobject.lower()}_watermark"])
    run.pulled += len(changes)
    logger.info(
        "Pulled %s %s records: %s unsubscribed, %s pushed back",
        len(changes),
        sobject,
        len(to_unsubscribe),
        len(to_push_back),
    )


def _link(to_link: dict[int, str]) -> None:
    """Store the Salesforce ids found by email, unless another contact has one."""
    taken = set(
        Contact.objects.filter(salesforce_id__in=list(to_link.values())).values_list(
            "salesforce_id", flat=True
        )
    )
    Contact.objects.bulk_update(
        [
            Contact(pk=contact_id, salesforce_id=salesforce_id)
            for contact_id, salesforce_id in to_link.items()
            if salesforce_id not in taken
        ],
        ["salesforce_id"],
        batch_size=1000,
    )


def _queue_push_back(contact_ids: set[int]) -> None:
    """Queue a push for each contact that has none pending yet."""
    if not contact_ids:
        return
    pending = set(
        OutboxEntry.objects.filter(
            status=OutboxStatus.PENDING, contact_id__in=contact_ids
        ).values_list("contact_id", flat=True)
    )
    OutboxEntry.objects.bulk_create(
        OutboxEntry(
            contact_id=contact_id,
            reason=OutboxReason.PUSH_BACK,
            channel=Channel.SALESFORCE_SYNC,
        )
        for contact_id in contact_ids - pending
    )


def _create_unknown(sobject: str, changes: list[Change]) -> int:
    """Create contacts for records no local contact matches; return opt-outs.

    Erased people stay erased: an email on the suppression list is skipped.
    """
    by_email = {c.email: c for c in changes if _is_email(c.email)}
    suppressed = suppressed_hashes(by_email)
    by_email = {e: c for e, c in by_email.items() if email_hash(e) not in suppressed}
    if not by_email:
        return 0
    contacts = [
        Contact(
            email=change.email,
            first_name=(change.raw.get("FirstName") or "")[:100],
            last_name=(change.raw.get("LastName") or "")[:100],
            company=(change.raw.get("Company") or "")[:200],
            salesforce_id=change.salesforce_id,
            source_type=SourceType.CRM_SYNC,
        )
        for change in by_email.values()
    ]
    created = Contact.objects.bulk_create(contacts)
    extensions.run_hooks(
        extensions.CONTACTS_CREATED,
        contact_ids=[c.pk for c in created],
        actor=None,
        channel=Channel.SALESFORCE_SYNC,
    )
    opted_out = [c.pk for c in created if by_email[c.email].opted_out]
    logger.info("Created %s contacts from Salesforce %s records", len(created), sobject)
    if not opted_out:
        return 0
    return contacts_bulk_unsubscribe(
        contacts=Contact.objects.filter(pk__in=opted_out),
        channel=Channel.SALESFORCE_SYNC,
        actor=None,
        actor_name=records.ACTOR_NAME,
    )


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True
