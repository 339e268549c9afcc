"""The bulk action flow, shared by every entry of the People list's "⋮" menu.

A bulk action is a form (in a modal), a confirmation naming the change and the
count, then a BulkJob that applies the change batch by batch. Up to
settings.BULK_TASK_THRESHOLD contacts the job runs inside the request; above
it a Celery task runs it and the user watches a progress bar, or leaves and
comes back (the People page links to their unfinished jobs).

Every batch locks its rows in id order (SELECT ... ORDER BY id FOR UPDATE)
before changing them, so two jobs, or a job and a card edit, on overlapping
contacts wait for each other instead of overwriting or deadlocking.
"""

import datetime
import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.contrib.auth.models import User
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_htmx.http import HttpResponseClientRedirect

from accounts.http import SignedInRequest
from contacts.extensions import bulk_job_kind, bulk_job_kind_keys
from contacts.models import BulkJob, Contact
from contacts.selection import Selection, SelectionError, bad_selection

logger = logging.getLogger(__name__)

# Contacts changed per transaction: one lock, one UPDATE, one history INSERT.
BATCH_SIZE = 5000

QUEUE_DOWN_NOTE = gettext_lazy(
    "Waiting: the task queue did not answer. The change starts by itself "
    "once it is back; nothing has been changed yet."
)
RESUMED_NOTE = gettext_lazy(
    "The change was interrupted after %(done)s of %(total)s contacts and "
    "resumed from there. No contact is changed twice."
)
INTERRUPTED = gettext_lazy(
    "The change stopped because the database did not answer. Nothing was "
    "half-done: each contact either has the change, with its history, or "
    "does not have it. Try again in a moment; contacts that already have the "
    "change are skipped."
)


@transaction.atomic
def bulk_job_create(
    *, kind: str, selection: Selection, change: dict, actor: User | None
) -> BulkJob:
    """Create a waiting job for a change over a selection, counting it."""
    bulk_job_kind(kind)  # refuse a kind nobody registered, before any work
    job = BulkJob(
        kind=kind,
        params={"selection": selection.as_params(), "change": change},
        total=selection.queryset().count(),
        actor=actor,
    )
    job.full_clean()
    job.save()
    logger.info("Bulk job %d (%s) created for %d contacts", job.pk, kind, job.total)
    return job


def bulk_job_run(*, job_id: int, batch_size: int | None = None) -> BulkJob:
    """Apply a job's change batch by batch; each batch commits with its progress.

    A finished job is left alone, and a job interrupted half-way (a worker
    lost, a retried task) resumes after the last batch it committed. Two runs
    of the same job (a task delivered twice) take turns batch by batch, so
    each contact is changed and counted once.
    """
    job = BulkJob.objects.select_related("actor").get(pk=job_id)
    if job.is_finished:
        return job
    kind = bulk_job_kind(job.kind)
    selection = Selection.from_params(job.params["selection"])
    BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.PENDING).update(
        state=BulkJob.State.RUNNING, error=""
    )

    while _run_batch(job, kind, selection, batch_size or BATCH_SIZE):
        pass
    return _finish(job_id)


@transaction.atomic
def _run_batch(job: BulkJob, kind, selection: Selection, batch_size: int) -> bool:
    """Change and count the next batch after the job's committed progress."""
    # The job's row lock is what makes two runs of one job take turns; the
    # progress it guards is read fresh, never from this run's memory.
    progress = (
        BulkJob.objects.select_for_update().only("state", "last_id").get(pk=job.pk)
    )
    if progress.is_finished:
        return False
    ids = list(
        selection.queryset()
        .filter(id__gt=progress.last_id)
        .order_by("id")
        .select_for_update()
        .values_list("id", flat=True)[:batch_size]
    )
    if not ids:
        return False
    changed = kind.apply(
        contacts=Contact.objects.filter(id__in=ids),
        change=job.params["change"],
        actor=job.actor,
    )
    BulkJob.objects.filter(pk=job.pk).update(
        done=F("done") + len(ids), changed=F("changed") + changed, last_id=ids[-1]
    )
    logger.info("Bulk job %d: batch of %d committed", job.pk, len(ids))
    return True


@transaction.atomic
def _finish(job_id: int) -> BulkJob:
    job = BulkJob.objects.select_for_update(of=("self",)).get(pk=job_id)
    if job.is_finished:
        return job
    job.state = BulkJob.State.DONE
    job.total = max(job.total, job.done)
    job.finished_at = timezone.now()
    # The selection may hold search text; a finished job no longer needs it.
    job.params = {"change": job.params["change"]}
    job.save(update_fields=["state", "total", "finished_at", "params"])
    logger.info("Bulk job %d done: %d changed of %d", job.pk, job.changed, job.done)
    return job


def bulk_job_fail(*, job_id: int) -> None:
    """Mark a job failed, keeping the batches it committed."""
    job = BulkJob.objects.get(pk=job_id)
    job.state = BulkJob.State.FAILED
    job.finished_at = timezone.now()
    job.error = _(
        "The change stopped after %(done)s of %(total)s contacts. "
        "Those were changed; start the action again for the rest."
    ) % {"done": job.done, "total": job.total}
    job.params = {"change": job.params.get("change", {})}
    job.save(update_fields=["state", "finished_at", "error", "params"])
    logger.warning("Bulk job %d failed after %d contacts", job.pk, job.done)


def bulk_job_start(*, job: BulkJob) -> BulkJob:
    """Run a small job now, or queue a large one for the worker."""
    if job.total <= settings.BULK_TASK_THRESHOLD:
        return bulk_job_run(job_id=job.pk)

    transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id: int) -> None:
    from contacts import tasks  # the task module imports this one

    try:
        tasks.bulk_job_run.delay(job_id)
    except Exception:
        # Redis is down (Celery has already retried the publish). The job
        # waits, saying so, and the sweep (bulk_jobs_recover) queues it again.
        logger.warning("Bulk job %d could not be queued; the sweep will", job_id)
        BulkJob.objects.filter(pk=job_id).update(error=QUEUE_DOWN_NOTE)


def bulk_job_note_resumed(*, job_id: int) -> None:
    """Say on the job's page that it was interrupted and resumes where it stopped."""
    job = BulkJob.objects.get(pk=job_id)
    if job.is_finished:
        return
    job.error = RESUMED_NOTE % {
        "done": number_format(job.done, force_grouping=True),
        "total": number_format(job.total, force_grouping=True),
    }
    job.save(update_fields=["error"])
    logger.info("Bulk job %d resumes after %d contacts", job.pk, job.done)


@transaction.atomic
def bulk_jobs_recover(*, stalled_before: datetime.datetime) -> list[int]:
    """Fail jobs whose request died; return the queued jobs to queue again.

    A job started before `stalled_before` and not finished lost its request
    (a small job) or maybe its task message (a large one: Redis lost it, or
    could not take it). Jobs that are in the middle of a batch hold their row
    lock and are skipped; queuing a job whose task is merely slow is harmless,
    since two runs of one job take turns (_run_batch).
    """
    stalled = list(
        BulkJob.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            state__in=BulkJob.UNFINISHED,
            created_at__lt=stalled_before,
            # Imports and their previews are recovered by their own modules,
            # which know whether the uploaded file is still there.
            kind__in=bulk_job_kind_keys(),
        )
        .only("pk", "total", "done", "state")
        .order_by("pk")
    )
    queued = [job for job in stalled if job.total > settings.BULK_TASK_THRESHOLD]
    for job in stalled:
        if job not in queued:
            bulk_job_fail(job_id=job.pk)
        elif job.state == BulkJob.State.RUNNING:
            bulk_job_note_resumed(job_id=job.pk)
    logger.info(
        "Bulk jobs recovered: %d to queue again, %d failed",
        len(queued),
        len(stalled) - len(queued),
    )
    return [job.pk for job in queued]


def job_message(job: BulkJob) -> str:
    """Return the outcome of a finished job as the user reads it."""
    if job.state == BulkJob.State.FAILED:
        return job.error
    return bulk_job_kind(job.kind).message(job.changed)


class BulkActionView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """The modal form, confirmation and apply steps of one bulk action.

    A subclass names its job `kind`, its `title`, optionally a `form_class`
    for the change, and says what the change is: `change(form)` (JSON for the
    job) and `question(form, count)` ("Set Permission type to Consent for
    1,204 contacts?").
    """

    kind: str
    title: str | Promise
    form_class: type[forms.Form] | None = None
    confirm_label: str | Promise = ""
    danger = False
    # A visitor is sent to log in; a signed-in user without the permission
    # gets 403 (AccessMixin.handle_no_permission).
    raise_exception = False
    http_method_names = ["get", "post"]

    def change(self, form: forms.Form | None) -> dict:
        return dict(form.cleaned_data) if form is not None else {}

    def question(self, form: forms.Form | None, count: int) -> str:
        raise NotImplementedError

    def get(self, request: SignedInRequest) -> HttpResponse:
        try:
            selection = Selection.from_data(request.GET)
        except SelectionError as error:
            return bad_selection(error)
        if self.form_class is None:
            return self._confirmation(request, selection, None)
        return self._render(request, selection, form=self._form())

    def post(self, request: SignedInRequest) -> HttpResponse:
        try:
            selection = Selection.from_data(request.POST)
        except SelectionError as error:
            return bad_selection(error)
        form = self._form(request.POST) if self.form_class else None
        if form is not None and not form.is_valid():
            return self._render(request, selection, form=form)
        if request.POST.get("step") != "apply":
            return self._confirmation(request, selection, form)

        job = bulk_job_create(
            kind=self.kind,
            selection=selection,
            change=self.change(form),
            actor=request.user,
        )
        try:
            job = bulk_job_start(job=job)
        except (OperationalError, InterfaceError):
            # The batch in flight rolled back whole with the lost connection.
            logger.warning("Bulk job %d stopped: the database did not answer", job.pk)
            return self._interrupted(request, job)
        if job.is_finished:
            level = (
                messages.SUCCESS if job.state == BulkJob.State.DONE else messages.ERROR
            )
            messages.add_message(request, level, job_message(job))
            target = reverse("contacts:people")
            if selection.is_all_matching and selection.filter_query:
                target += f"?{selection.filter_query}"
        else:
            target = reverse("contacts:bulk_job", args=[job.pk])
        if request.htmx:
            return HttpResponseClientRedirect(target)
        return redirect(target)

    def _interrupted(self, request: SignedInRequest, job: BulkJob) -> HttpResponse:
        # The broken connection goes; the next query opens a new one.
        connection.close()
        try:
            bulk_job_fail(job_id=job.pk)
        except DatabaseError:
            # Still down: the sweep marks the job failed later.
            logger.warning("Bulk job %d left for the sweep to fail", job.pk)
        # Rendered without the request: its context processors need the
        # database. An HTMX modal only swaps in a successful answer.
        if request.htmx:
            body = render_to_string(
                "contacts/partials/bulk_interrupted.html", {"message": INTERRUPTED}
            )
            return HttpResponse(body)
        body = render_to_string(
            "contacts/bulk_interrupted.html", {"message": INTERRUPTED}
        )
        return HttpResponse(body, status=503, headers={"Retry-After": "30"})

    def _form(self, data=None) -> forms.Form:
        if self.form_class is None:
            raise TypeError(f"{type(self).__name__} has no form to show")
        # The People page behind the modal has filter fields of the same
        # names; distinct ids keep each label pointing at its own field.
        return self.form_class(data, auto_id="bulk_%s")

    def _confirmation(self, request, selection, form) -> HttpResponse:
        count = selection.queryset().count()
        return self._render(
            request,
            selection,
            form=form,
            confirming=True,
            question=self.question(form, count),
        )

    def _render(self, request, selection, **context) -> HttpResponse:
        template = (
            "contacts/partials/bulk_action.html"
            if request.htmx
            else "contacts/bulk_action.html"
        )
        return render(
            request,
            template,
            {
                "title": self.title,
                "action_url": request.path,
                "selection_fields": selection.hidden_fields(),
                "confirm_label": self.confirm_label or _("Confirm"),
                "danger": self.danger,
                "back_url": reverse("contacts:people")
                + (f"?{selection.filter_query}" if selection.filter_query else ""),
                **context,
            },
        )
