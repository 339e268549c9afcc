"""Every write of the Salesforce sync: outbox rows, runs and the sync state."""

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from contacts.models import Contact
from salesforce_sync.client import (
    PermanentError,
    RequestLimitExceeded,
    SalesforceClient,
    SyncError,
    TransientError,
    is_configured,
)
from salesforce_sync.models import (
    ConnectionState,
    OutboxEntry,
    OutboxReason,
    OutboxStatus,
    RunStatus,
    RunTrigger,
    SyncRun,
    SyncState,
)
from salesforce_sync.pull import pull_changes
from salesforce_sync.push import push_pending
from unsubscribes.choices import Action, Channel
from unsubscribes.extensions import ChangeRows

logger = logging.getLogger(__name__)

# Any constant unique to this lock; PostgreSQL advisory locks are keyed by it.
_ADVISORY_LOCK_KEY = 0x5F_5359_4E43
_CACHE_LOCK_KEY = "salesforce_sync:run-lock"
_CACHE_LOCK_SECONDS = 60 * 30
# Set while a relay task is queued, so a burst of unsubscribes queues one.
RELAY_QUEUED_KEY = "salesforce_sync:relay-queued"
_RELAY_DELAY_SECONDS = 2


def outbox_rows(*, action: str, channel: str) -> ChangeRows | None:
    """Return the outbox rows that queue a subscription change for Salesforce.

    A subscription writer (unsubscribes.extensions): the rows are written in
    the statement or transaction that records the change, so each commits
    exactly when its change does, and the relay is queued once it has.
    Unsubscribes that came from Salesforce are not sent back to it.
    """
    if action == Action.UNSUBSCRIBE and channel == Channel.SALESFORCE_SYNC:
        return None
    if not is_configured():
        # The first pull after credentials are set pushes back every local
        # opt-out its records disagree with, so nothing is owed meanwhile.
        return None
    reason = (
        OutboxReason.RESUBSCRIBE
        if action == Action.RESUBSCRIBE
        else OutboxReason.UNSUBSCRIBE
    )
    return ChangeRows(
        model=OutboxEntry,
        contact_field="contact",
        values={"reason": reason, "channel": channel},
        on_commit=_relay_changes,
    )


def _relay_changes(contact_ids: list[int]) -> None:
    # The relay pushes every pending row, whichever contacts changed.
    relay_enqueue()


def outbox_forget(*, contact_ids: Sequence[int], **kwargs) -> None:
    """Delete the outbox rows of contacts being erased; queue their opt-outs.

    An erasure hook. An erased person must never be emailed again, by this
    app or by Salesforce, so each one linked to a Salesforce record leaves
    one row that opts that record out: it names the record, not the person,
    and the push blanks even that once Salesforce has answered.
    """
    deleted, _ = OutboxEntry.objects.filter(contact_id__in=list(contact_ids)).delete()
    linked = []
    if is_configured():
        linked = list(
            Contact.objects.filter(pk__in=list(contact_ids))
            .exclude(salesforce_id__isnull=True)
            .exclude(salesforce_id="")
            .values_list("salesforce_id", flat=True)
        )
    OutboxEntry.objects.bulk_create(
        [
            OutboxEntry(salesforce_id=salesforce_id, reason=OutboxReason.ERASURE)
            for salesforce_id in linked
            if salesforce_id  # always, by the query; says so to the type checker
        ],
        batch_size=1000,
    )
    if linked:
        transaction.on_commit(relay_enqueue)
    logger.info(
        "Deleted %s outbox rows of %s erased contacts; %s opt-outs queued",
        deleted,
        len(contact_ids),
        len(linked),
    )


class _QueuedRelay:
    """What this process knows of the queued relay, to spare a cache call a change.

    A queued relay starts no earlier than its countdown allows and then reads
    every pending row, so a change committed before then needs no message of
    its own. The cache entry holds that start time (wall clock, seconds), and
    each process remembers it: during a burst, a process asks the cache about
    once a relay instead of once a change. The margin allows for the clocks of
    web and worker hosts being a little apart; a row a relay still misses
    waits for the periodic sweep, as when Redis is down.
    """

    MARGIN_SECONDS = 0.5

    def __init__(self) -> None:
        self.starts_at = 0.0
        self.next_lookup = 0.0
        self.clock = time.time  # a test's fixed clock goes here, not in `time`

    def covers(self, now: float) -> bool:
        return now < self.starts_at - self.MARGIN_SECONDS

    def forget(self) -> None:
        self.starts_at = self.next_lookup = 0.0


queued_relay = _QueuedRelay()


def relay_enqueue() -> None:
    """Queue the outbox relay; never fail the caller if the broker is down."""
    from salesforce_sync.tasks import relay_outbox

    now = queued_relay.clock()
    if queued_relay.covers(now):
        return
    starts_at = now + _RELAY_DELAY_SECONDS
    try:
        if cache.add(RELAY_QUEUED_KEY, starts_at, timeout=30):
            relay_outbox.apply_async(countdown=_RELAY_DELAY_SECONDS, retry=False)
        elif now >= queued_relay.next_lookup:
            # Another process queued it. Asked at most once a countdown, so
            # that a relay held up in a busy worker costs one call a change.
            queued_relay.next_lookup = now + _RELAY_DELAY_SECONDS
            starts_at = cache.get(RELAY_QUEUED_KEY)
        else:
            return
    except Exception:
        # The change and its outbox row are committed; the periodic sweep
        # pushes it once Redis is back.
        logger.warning("Could not queue the Salesforce relay; the sweep will push")
        cache_forget_relay()
        return
    # Run in-process (no Redis), the relay has already run and gone.
    if isinstance(starts_at, float) and not relay_outbox.app.conf.task_always_eager:
        queued_relay.starts_at = starts_at


def cache_forget_relay() -> None:
    """Let the next change queue a relay again."""
    try:
        cache.delete(RELAY_QUEUED_KEY)
    except Exception:
        logger.warning("Could not reach the cache to clear the relay flag")


@contextmanager
def _run_lock() -> Iterator[bool]:
    """Hold the one-run-at-a-time lock if it is free; yield whether it is held.

    On PostgreSQL an advisory lock: it belongs to the database session, so a
    worker that dies (even by kill -9) releases it with its connection.
    Elsewhere (SQLite on a laptop) a cache entry that expires.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_LOCK_KEY])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s)", [_ADVISORY_LOCK_KEY]
                    )
        return
    held = cache.add(_CACHE_LOCK_KEY, True, timeout=_CACHE_LOCK_SECONDS)
    try:
        yield held
    finally:
        if held:
            cache.delete(_CACHE_LOCK_KEY)


def sync_state() -> SyncState:
    """Return the single sync state row, creating it on first use."""
    state, _ = SyncState.objects.get_or_create(pk=1)
    return state


def sync_run(*, trigger: str = RunTrigger.SCHEDULE) -> SyncRun | None:
    """Run one sync: pull (unless only relaying the outbox), then push.

    Return the recorded run, or None when there was nothing to do: the sync is
    off, another run holds the lock, Salesforce asked us to wait, or a relay
    found no pending row. TransientError propagates after the run is recorded
    as failed, for the task to retry.
    """
    if not is_configured():
        logger.info("Salesforce sync is off: no credentials")
        return None
    with _run_lock() as held:
        if not held:
            logger.info("Salesforce sync skipped: another run is in progress")
            return None
        return _locked_run(trigger)


def _locked_run(trigger: str) -> SyncRun | None:
    state = sync_state()
    now = timezone.now()
    if state.paused_until and state.paused_until > now:
        logger.info(
            "Salesforce sync paused by the API limit until %s", state.paused_until
        )
        return None
    relay_only = trigger == RunTrigger.RELAY
    if (
        relay_only
        and not OutboxEntry.objects.filter(status=OutboxStatus.PENDING).exists()
    ):
        return None

    run = SyncRun.objects.create(trigger=trigger, started_at=now)
    client = SalesforceClient()
    try:
        if not relay_only:
            pull_changes(client, run, state)
        push_pending(client, run)
    except RequestLimitExceeded as error:
        pause = timedelta(minutes=settings.SALESFORCE_LIMIT_PAUSE_MINUTES)
        _finish(run, client, RunStatus.DEFERRED, error)
        _set_connection(
            state, ConnectionState.RATE_LIMITED, error, paused_until=now + pause
        )
        logger.warning("Salesforce API limit reached: sync paused for %s", pause)
        return run
    except PermanentError as error:
        _finish(run, client, RunStatus.FAILED, error)
        _set_connection(state, ConnectionState.REFUSED, error)
        logger.warning("Salesforce refused the sync: %s", error.code)
        return run
    except TransientError as error:
        _finish(run, client, RunStatus.FAILED, error)
        _set_connection(state, ConnectionState.UNREACHABLE, error)
        raise
    except Exception as error:
        _finish(run, client, RunStatus.FAILED, SyncError("INTERNAL_ERROR"))
        logger.exception("Salesforce sync run %s crashed", run.pk)
        raise error
    _finish(run, client, RunStatus.SUCCEEDED, None)
    _set_connection(state, ConnectionState.CONNECTED, None)
    logger.info(
        "Salesforce sync run %s: pulled %s, received %s, pushed %s, failed %s",
        run.pk,
        run.pulled,
        run.received,
        run.pushed,
        run.failed,
    )
    return run


def _finish(
    run: SyncRun, client: SalesforceClient, status: str, error: SyncError | None
) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.requests = client.requests_made
    run.api_usage = client.api_usage
    run.api_limit = client.api_limit
    run.error_code = error.code[:64] if error else ""
    run.error_message = error.message[:500] if error else ""
    run.save()


def _set_connection(
    state: SyncState,
    connection_state: str,
    error: SyncError | None,
    paused_until=None,
) -> None:
    state.connection = connection_state
    state.connection_checked_at = timezone.now()
    state.error_code = error.code[:64] if error else ""
    state.error_message = error.message[:500] if error else ""
    state.paused_until = paused_until
    state.save(
        update_fields=[
            "connection",
            "connection_checked_at",
            "error_code",
            "error_message",
            "paused_until",
        ]
    )


def sync_give_up(*, error: SyncError, attempts: int) -> None:
    """Record that retries are spent; the next scheduled run starts afresh."""
    state = sync_state()
    message = f"Gave up after {attempts} attempts: {error.code}"
    _set_connection(state, ConnectionState.UNREACHABLE, SyncError(error.code, message))
    logger.error("Salesforce sync gave up after %s attempts (%s)", attempts, error.code)


def sync_request() -> bool:
    """Queue a full sync for a person who asked; return whether it was queued."""
    from salesforce_sync.tasks import sync

    try:
        sync.apply_async(kwargs={"trigger": RunTrigger.MANUAL}, retry=False)
    except Exception:
        logger.warning("Could not queue a manual Salesforce sync")
        return False
    return True
