"""Salesforce push of opt-outs, counted at the stand-in.

The sync pushes through the real simple-salesforce client over HTTPS to the
test suite's Salesforce stand-in, run here in-process. The baseline is the
request count the issue allows: one sObject Collections request per 200
records, or five Bulk API 2.0 requests plus polls.
"""

import math
import time

from django.db.models import Case, Value, When
from django.test import override_settings

from bench.harness import Report, Row
from contacts.models import Contact
from salesforce_sync.models import RunTrigger
from salesforce_sync.services import cache_forget_relay, sync_run
from salesinsight.celery import app as celery_app
from tests.salesforce_standin import SalesforceStandin
from unsubscribes.choices import Channel
from unsubscribes.services import contacts_bulk_unsubscribe

OPT_OUTS = 10_000
COLLECTION_SIZE = 200
BULK_REQUESTS = 5  # create, upload, close, and the two result reads


def _settings(standin: SalesforceStandin, bulk_threshold: int) -> override_settings:
    return override_settings(
        SALESFORCE_LOGIN_URL=standin.instance_url,
        SALESFORCE_API_VERSION="59.0",
        SALESFORCE_USERNAME=standin.api.username,
        SALESFORCE_PASSWORD=standin.api.password,
        SALESFORCE_SECURITY_TOKEN=standin.api.security_token,
        SALESFORCE_CA_BUNDLE=standin.ca_path,
        SALESFORCE_BULK_THRESHOLD=bulk_threshold,
    )


def _link(standin: SalesforceStandin, contact_ids: list[int]) -> None:
    """Give each contact its own record in the stand-in, and store the ids."""
    emails = dict(Contact.objects.filter(id__in=contact_ids).values_list("id", "email"))
    linked = {
        contact_id: standin.store.add_contact(Email=email, LastName="Bench")
        for contact_id, email in emails.items()
    }
    for start in range(0, len(contact_ids), 1000):
        chunk = {i: linked[i] for i in contact_ids[start : start + 1000]}
        Contact.objects.filter(id__in=chunk).update(
            salesforce_id=Case(*(When(id=i, then=Value(v)) for i, v in chunk.items()))
        )


def _push(standin: SalesforceStandin, contact_ids: list[int]) -> tuple[dict, float]:
    # Without Redis, Celery would run the relay eagerly inside the unsubscribe;
    # the queued relay is dropped here so the push is timed on its own.
    celery_app.conf.task_always_eager = False
    try:
        contacts_bulk_unsubscribe(
            contacts=Contact.objects.filter(id__in=contact_ids),
            channel=Channel.USER,
            actor=None,
            actor_name="bench",
        )
    finally:
        celery_app.conf.task_always_eager = True
    cache_forget_relay()
    standin.api.reset()
    started = time.perf_counter()
    run = sync_run(trigger=RunTrigger.RELAY)
    elapsed = time.perf_counter() - started
    if run is None or run.pushed != len(contact_ids):
        raise RuntimeError(f"The push did not send every opt-out: {run}")
    return dict(standin.counts), elapsed


def run(report: Report, *, size: int, runs: int) -> None:
    wanted = min(OPT_OUTS, size // 4)
    subscribed = list(
        Contact.objects.filter(is_unsubscribed=False, salesforce_id=None)
        .order_by("-id")
        .values_list("id", flat=True)[: wanted * 2]
    )
    # A small database may have fewer left: earlier benchmarks (and earlier
    # runs) unsubscribe contacts for good. Rows and baselines say how many.
    count = len(subscribed) // 2
    if count == 0:
        raise RuntimeError("No subscribed, unlinked contacts left: seed again")
    by_collections, by_bulk = subscribed[:count], subscribed[count : count * 2]

    with SalesforceStandin() as standin:
        _link(standin, subscribed)

        with _settings(standin, bulk_threshold=count + 1):
            counts, seconds = _push(standin, by_collections)
            standin.api.reset()
            second = sync_run(trigger=RunTrigger.RELAY)
            second_requests = sum(standin.counts.values())
        data_requests = sum(v for k, v in counts.items() if k != "login")
        report.add(
            Row(
                f"Salesforce push of {count:,} opt-outs, sObject Collections: requests",
                data_requests,
                math.ceil(count / COLLECTION_SIZE),
                "requests",
                target=1.0,
                note=f"{seconds:.1f} s; {counts.get('login', 0)} login; second run: "
                f"{'none needed' if second is None else 'ran'}, "
                f"{second_requests} requests",
            )
        )

        with _settings(standin, bulk_threshold=count - 1):
            counts, seconds = _push(standin, by_bulk)
        polls = counts.get("bulk_poll", 0)
        bulk_requests = sum(
            v for k, v in counts.items() if k not in ("login", "bulk_poll")
        )
        report.add(
            Row(
                f"Salesforce push of {count:,} opt-outs, Bulk API 2.0: requests "
                "besides polls",
                bulk_requests,
                BULK_REQUESTS,
                "requests",
                target=1.0,
                note=f"{seconds:.1f} s; {polls} polls; {counts.get('login', 0)} login",
            )
        )
