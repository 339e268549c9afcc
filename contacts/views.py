from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from contacts import extensions, selectors, services
from contacts.bulk import job_message
from contacts.bulk_delete import BulkDeleteView
from contacts.erasure import ErasureChannel, contacts_erase
from contacts.forms import ContactForm, ImportUploadForm
from contacts.import_preview import KIND as IMPORT_PREVIEW_KIND
from contacts.import_preview import (
    import_preview_is_open,
    import_preview_job_cancel,
    import_preview_job_confirm,
    import_preview_job_create,
    import_preview_job_start,
    import_preview_summary,
    import_rows_estimate,
)
from contacts.importing import KIND as IMPORT_KIND
from contacts.importing import (
    ImportFileError,
    import_file_discard,
    import_file_store,
    import_job_create,
    import_job_start,
    import_message,
    import_preview,
    is_import_file_name,
)
from contacts.listing import people_listing
from contacts.models import BulkJob, Contact


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def people(request):
    return render(
        request,
        "contacts/people.html",
        {
            "listing": people_listing(request.GET),
            "bulk_actions": extensions.bulk_actions_for(request.user),
            "unfinished_jobs": list(selectors.unfinished_jobs(request.user)[:5]),
        },
    )


bulk_delete = BulkDeleteView.as_view()


@login_required
@permission_required("contacts.delete_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def person_delete(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    if request.method == "POST":
        contacts_erase(
            contact_ids=[contact.pk], channel=ErasureChannel.PERSON, actor=request.user
        )
        messages.success(request, _("Person deleted."))
        return redirect("contacts:people")
    return render(request, "contacts/person_delete.html", {"contact": contact})


def _job_for(request, job_id: int) -> BulkJob:
    job = get_object_or_404(BulkJob, pk=job_id)
    # Someone else's job is "not found", like a job that does not exist: job
    # ids are sequential, and which exist is nobody else's business.
    if job.actor_id != request.user.pk and not request.user.has_perm(
        "contacts.view_bulkjob"
    ):
        raise Http404
    return job


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def bulk_job(request, job_id: int):
    job = _job_for(request, job_id)
    if job.kind == IMPORT_PREVIEW_KIND:
        return _import_preview_job(request, job)
    template = (
        "contacts/partials/bulk_job_progress.html"
        if request.htmx
        else "contacts/bulk_job.html"
    )
    outcome = ""
    if job.is_finished:
        outcome = import_message(job) if job.kind == IMPORT_KIND else job_message(job)
    return render(request, template, {"job": job, "outcome": outcome})


def _import_preview_job(request, job: BulkJob):
    summary = import_preview_summary(job)
    # Only the uploader confirms; an Admin looking on sees the same preview.
    token = None
    if job.actor_id == request.user.pk and import_preview_is_open(job):
        token = _preview_token(request, preview_job=job.pk, ok=summary.can_import)
    template = (
        "contacts/partials/import_preview_job.html"
        if request.htmx
        else "contacts/import_preview_job.html"
    )
    return render(
        request,
        template,
        {
            "job": job,
            "summary": summary,
            "token": token,
            "closed": job.params.get("closed", False),
        },
    )


IMPORT_PREVIEW_SALT = "contacts.import.preview"
IMPORT_PREVIEW_MAX_AGE = 24 * 60 * 60


def _preview_token(request, **preview) -> str:
    """Sign what the confirmation step needs: a kept file, or a preview job."""
    return signing.dumps({**preview, "user": request.user.pk}, salt=IMPORT_PREVIEW_SALT)


@login_required
@permission_required("contacts.import_contacts", raise_exception=True)
@require_http_methods(["GET", "POST"])
def people_import(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "contacts/import.html", {"form": form})

    name = ""
    try:
        name, file_format = import_file_store(upload=form.cleaned_data["file"])
        rows = import_rows_estimate(name=name, file_format=file_format)
        if rows is None or rows > settings.BULK_TASK_THRESHOLD:
            job = import_preview_job_create(
                name=name, file_format=file_format, rows=rows, actor=request.user
            )
            import_preview_job_start(job=job)
            return redirect("contacts:bulk_job", job.pk)
        summary = import_preview(name=name, file_format=file_format, actor=request.user)
    except ImportFileError as error:
        if name:
            import_file_discard(name=name)
        form.add_error("file", str(error))
        return render(request, "contacts/import.html", {"form": form})

    token = _preview_token(
        request, file=name, format=file_format, rows=summary.rows, ok=summary.can_import
    )
    return render(
        request,
        "contacts/import.html",
        {"form": ImportUploadForm(), "summary": summary, "token": token},
    )


@login_required
@permission_required("contacts.import_contacts", raise_exception=True)
@require_http_methods(["POST"])
def people_import_confirm(request):
    preview = _signed_preview(request)
    cancel = request.POST.get("action") == "cancel"
    if preview is None or not (cancel or preview.get("ok")):
        return _preview_expired(request)

    if "preview_job" in preview:
        if cancel:
            cancelled = import_preview_job_cancel(
                job_id=preview["preview_job"], actor=request.user
            )
            return (
                _import_cancelled(request) if cancelled else _preview_expired(request)
            )
        job = import_preview_job_confirm(
            job_id=preview["preview_job"], actor=request.user
        )
        if job is None:
            return _preview_expired(request)
    elif cancel:
        import_file_discard(name=preview["file"])
        return _import_cancelled(request)
    else:
        job = import_job_create(
            name=preview["file"],
            file_format=preview["format"],
            rows=preview["rows"],
            actor=request.user,
        )

    job = import_job_start(job=job)
    if not job.is_finished:
        return redirect("contacts:bulk_job", job.pk)
    level = messages.SUCCESS if job.state == BulkJob.State.DONE else messages.ERROR
    messages.add_message(request, level, import_message(job))
    return redirect("contacts:people")


def _signed_preview(request) -> dict | None:
    try:
        preview = signing.loads(
            request.POST.get("token", ""),
            salt=IMPORT_PREVIEW_SALT,
            max_age=IMPORT_PREVIEW_MAX_AGE,
        )
    except signing.BadSignature:
        return None
    # Signed by this app, so only a leaked key could forge one; still, a file
    # name that import_file_store did not give is never opened or deleted.
    if not isinstance(preview, dict) or (
        "file" in preview and not is_import_file_name(preview["file"])
    ):
        return None
    return preview if preview.get("user") == request.user.pk else None


def _preview_expired(request):
    messages.error(request, _("This preview has expired. Upload the file again."))
    return redirect("contacts:people_import")


def _import_cancelled(request):
    messages.info(request, _("Import cancelled."))
    return redirect("contacts:people")


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def person_detail(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    panels = [
        {"panel": panel, "context": panel.context(request, contact)}
        for panel in extensions.person_panels_for(request.user)
    ]
    return render(
        request,
        "contacts/person_detail.html",
        {
            "contact": contact,
            "panels": panels,
            "person_actions": extensions.person_actions_for(request.user),
        },
    )


@login_required
@permission_required(
    ["contacts.view_contact", "contacts.add_contact"], raise_exception=True
)
@require_http_methods(["GET", "POST"])
def person_create(request):
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                fields=form.cleaned_data, actor=request.user
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Person created."))
            return redirect(contact)
    return render(request, "contacts/person_form.html", {"form": form, "contact": None})


@login_required
@permission_required(
    ["contacts.view_contact", "contacts.change_contact"], raise_exception=True
)
@require_http_methods(["GET", "POST"])
def person_edit(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    if request.method != "POST":
        form = ContactForm.for_contact(contact)
    else:
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                services.contact_update(
                    contact_id=contact.pk, fields=form.cleaned_data, actor=request.user
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Person saved."))
                return redirect(contact)
    return render(
        request, "contacts/person_form.html", {"form": form, "contact": contact}
    )
