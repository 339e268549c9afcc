"""Push: relay pending outbox rows to Salesforce's opt-out field.

Each pass reads the pending rows oldest first and sends, for each contact, its
status at that moment: an unsubscribed contact is opted out, a resubscribed one
is not. Rows are marked one request at a time, in their own transaction, so a
crash loses at most the marks of one request, and sending those records again
sets the same values: the effect is that of sending them once.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from simple_salesforce import format_soql

from contacts.models import Contact
from salesforce_sync import records
from salesforce_sync.client import RecordResult, SalesforceClient
from salesforce_sync.models import OutboxEntry, OutboxStatus, SyncRun
from unsubscribes.choices import Channel
from unsubscribes.services import contacts_bulk_unsubscribe

logger = logging.getLogger(__name__)

PASS_SIZE = 50_000
COLLECTION_SIZE = 200
LOOKUP_BATCH = 200
# Errors that may pass by themselves: the row stays pending for the next run,
# up to MAX_RECORD_ATTEMPTS; every other per-record error is final.
TRANSIENT_RECORD_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})
MAX_RECORD_ATTEMPTS = 5


@dataclass
class Target:
    """One contact to set in Salesforce, with the outbox rows it settles."""

    contact_id: int | None  # None: an erased person's record
    row_ids: list[int]
    opted_out: bool
    changed_at: datetime | None
    salesforce_id: str = ""
    sobject: str = field(init=False, default="")


def push_pending(client: SalesforceClient, run: SyncRun) -> None:
    """Push every outbox row pending when the run reaches it."""
    after = 0
    while True:
        rows = list(
            OutboxEntry.objects.filter(status=OutboxStatus.PENDING, id__gt=after)
            .order_by("id")
            .values_list("id", "contact_id", "salesforce_id", "created_at")[:PASS_SIZE]
        )
        if not rows:
            break
        # Rows left pending by a passing error wait for the next run rather
        # than being tried again in this one.
        after = rows[-1][0]
        by_contact: dict[int, list[int]] = defaultdict(list)
        erased: list[Target] = []
        for row_id, contact_id, salesforce_id, created_at in rows:
            if contact_id is None:
                erased.append(
                    Target(
                        contact_id=None,
                        row_ids=[row_id],
                        opted_out=True,
                        changed_at=created_at,
                        salesforce_id=salesforce_id,
                    )
                )
            else:
                by_contact[contact_id].append(row_id)
        _push_pass(client, run, by_contact, erased)

    # An erased person's record id is kept only until Salesforce has answered.
    OutboxEntry.objects.filter(contact__isnull=True).exclude(
        status=OutboxStatus.PENDING
    ).exclude(salesforce_id="").update(salesforce_id="")


def _push_pass(
    client: SalesforceClient,
    run: SyncRun,
    by_contact: dict[int, list[int]],
    erased: list[Target],
) -> None:
    contacts = Contact.objects.filter(pk__in=list(by_contact)).values(
        "id", "email", "salesforce_id", "is_unsubscribed", "subscription_changed_at"
    )
    targets: list[Target] = list(erased)
    unlinked: list[Target] = []
    emails: dict[int, str] = {}
    for contact in contacts:
        target = Target(
            contact_id=contact["id"],
            row_ids=by_contact[contact["id"]],
            opted_out=contact["is_unsubscribed"],
            changed_at=contact["subscription_changed_at"],
            salesforce_id=contact["salesforce_id"] or "",
        )
        if target.salesforce_id:
            targets.append(target)
        else:
            unlinked.append(target)
            emails[contact["id"]] = contact["email"]

    if unlinked:
        found = _link_by_email(client, emails)
        missing = [t for t in unlinked if t.contact_id not in found]
        _settle_failed(
            run,
            missing,
            "NO_MATCH",
            "No Contact or Lead in Salesforce has this email address.",
        )
        for target in unlinked:
            if target.contact_id in found:
                target.salesforce_id = found[target.contact_id]
                targets.append(target)

    unsupported = []
    for target in targets:
        target.sobject = records.sobject_of(target.salesforce_id)
        if not target.sobject:
            unsupported.append(target)
    _settle_failed(
        run,
        unsupported,
        "UNSUPPORTED_RECORD",
        "The Salesforce ID is neither a Contact nor a Lead.",
    )
    targets = [t for t in targets if t.sobject]

    if any(not t.opted_out for t in targets):
        targets = _drop_superseded_resubscribes(client, run, targets)

    if len(targets) > settings.SALESFORCE_BULK_THRESHOLD:
        _push_bulk(client, run, targets)
    else:
        for chunk in records.chunks(targets, COLLECTION_SIZE):
            _push_collection(client, run, list(chunk))


def _link_by_email(client: SalesforceClient, emails: dict[int, str]) -> dict[int, str]:
    """Find Contacts, then Leads, by email; store and return the ids found."""
    by_email = {email.lower(): contact_id for contact_id, email in emails.items()}
    found: dict[int, str] = {}
    for sobject in records.SOBJECTS:
        remaining = [e for e, cid in by_email.items() if cid not in found]
        for chunk in records.chunks(remaining, LOOKUP_BATCH):
            soql = format_soql(
                "SELECT Id, Email FROM {:literal} WHERE Email IN {}",
                sobject,
                list(chunk),
            )
            for page in client.query_pages(soql):
                for record in page:
                    contact_id = by_email.get((record.get("Email") or "").lower())
                    if contact_id is not None and contact_id not in found:
                        found[contact_id] = record["Id"]

    # A record already linked to another contact stays with that contact.
    taken = set(
        Contact.objects.filter(salesforce_id__in=list(found.values())).values_list(
            "salesforce_id", flat=True
        )
    )
    found = {cid: sfid for cid, sfid in found.items() if sfid not in taken}
    Contact.objects.bulk_update(
        [Contact(pk=cid, salesforce_id=sfid) for cid, sfid in found.items()],
        ["salesforce_id"],
        batch_size=1000,
    )
    logger.info("Linked %s contacts to Salesforce by email", len(found))
    return found


def _drop_superseded_resubscribes(
    client: SalesforceClient, run: SyncRun, targets: list[Target]
) -> list[Target]:
    """Keep a resubscribe from overwriting a newer opt-out made in Salesforce.

    Opt-out wins: when Salesforce says opted out and its record changed at or
    after the local resubscribe, the contact is unsubscribed again here
    instead, and the resubscribe is not sent.
    """
    resubscribes = {t.salesforce_id[:15]: t for t in targets if not t.opted_out}
    opt_out_field = records.opt_out_field()
    newer: list[Target] = []
    by_sobject: dict[str, list[Target]] = defaultdict(list)
    for target in resubscribes.values():
        by_sobject[target.sobject].append(target)
    for sobject, group in by_sobject.items():
        for chunk in records.chunks(group, LOOKUP_BATCH):
            soql = format_soql(
                "SELECT Id, {:literal}, SystemModstamp FROM {:literal} WHERE Id IN {}",
                opt_out_field,
                sobject,
                [t.salesforce_id for t in chunk],
            )
            for page in client.query_pages(soql):
                for record in page:
                    resubscribe = resubscribes.get(record["Id"][:15])
                    modified = records.parse_datetime(record["SystemModstamp"])
                    if (
                        resubscribe is not None
                        and record.get(opt_out_field) is True
                        and not records.is_later(resubscribe.changed_at, modified)
                    ):
                        newer.append(resubscribe)
    if not newer:
        return targets

    with transaction.atomic():
        contacts_bulk_unsubscribe(
            contacts=Contact.objects.filter(pk__in=[t.contact_id for t in newer]),
            channel=Channel.SALESFORCE_SYNC,
            actor=None,
            actor_name=records.ACTOR_NAME,
        )
        OutboxEntry.objects.filter(id__in=_row_ids(newer)).update(
            status=OutboxStatus.SUPERSEDED,
            processed_at=timezone.now(),
            opted_out=True,
        )
    run.received += len(newer)
    logger.info("Kept %s newer Salesforce opt-outs over resubscribes", len(newer))
    dropped = {t.contact_id for t in newer}
    return [t for t in targets if t.contact_id not in dropped]


def _push_collection(
    client: SalesforceClient, run: SyncRun, targets: list[Target]
) -> None:
    opt_out_field = records.opt_out_field()
    payload = [
        {
            "attributes": {"type": t.sobject},
            "id": t.salesforce_id,
            opt_out_field: t.opted_out,
        }
        for t in targets
    ]
    results = client.update_collection(payload)
    _record_results(run, list(zip(targets, results, strict=True)))


def _push_bulk(client: SalesforceClient, run: SyncRun, targets: list[Target]) -> None:
    opt_out_field = records.opt_out_field()
    by_sobject: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_sobject[target.sobject].append(target)
    for sobject, group in by_sobject.items():
        by_id = {t.salesforce_id[:15]: t for t in group}
        rows = [
            {"Id": t.salesforce_id, opt_out_field: "true" if t.opted_out else "false"}
            for t in group
        ]
        results = client.bulk_update(
            sobject, rows, poll_seconds=settings.SALESFORCE_RETRY_BASE_SECONDS
        )
        # Records the job left unprocessed keep their rows pending.
        pairs = [
            (by_id[r.record_id[:15]], r) for r in results if r.record_id[:15] in by_id
        ]
        _record_results(run, pairs)
        logger.info("Pushed %s %s records through Bulk API 2.0", len(rows), sobject)


@transaction.atomic
def _record_results(run: SyncRun, pairs: list[tuple[Target, RecordResult]]) -> None:
    now = timezone.now()
    succeeded = [t for t, r in pairs if r.success]
    for opted_out in (True, False):
        row_ids = _row_ids(t for t in succeeded if t.opted_out is opted_out)
        if row_ids:
            OutboxEntry.objects.filter(id__in=row_ids).update(
                status=OutboxStatus.SENT, processed_at=now, opted_out=opted_out
            )
    run.pushed += len(succeeded)

    errors: dict[tuple[str, str], list[Target]] = defaultdict(list)
    for target, result in pairs:
        if not result.success:
            errors[(result.error_code, result.error_message)].append(target)
    for (code, message), group in errors.items():
        if code in TRANSIENT_RECORD_ERRORS:
            rows = OutboxEntry.objects.filter(id__in=_row_ids(group))
            rows.update(
                attempts=F("attempts") + 1, error_code=code, error_message=message
            )
            gave_up = rows.filter(attempts__gte=MAX_RECORD_ATTEMPTS)
            run.failed += gave_up.update(status=OutboxStatus.FAILED, processed_at=now)
        else:
            _settle_failed(run, group, code, message)
    if errors:
        logger.warning(
            "Salesforce refused %s records: %s",
            sum(len(g) for g in errors.values()),
            sorted({code for code, _ in errors}),
        )


def _settle_failed(run: SyncRun, targets: list[Target], code: str, message) -> None:
    if not targets:
        return
    OutboxEntry.objects.filter(id__in=_row_ids(targets)).update(
        status=OutboxStatus.FAILED,
        processed_at=timezone.now(),
        attempts=F("attempts") + 1,
        error_code=code[:64],
        error_message=str(message)[:500],
    )
    run.failed += len(targets)


def _row_ids(targets) -> list[int]:
    return [row_id for target in targets for row_id in target.row_ids]
