from typing import TypeVar

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import (
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import SignedInRequest
from contacts.models import Contact
from contacts.selection import SelectionError, bad_selection
from exports import selectors, services

Response = TypeVar("Response", HttpResponse, StreamingHttpResponse)


def _download(response: Response, filename: str) -> Response:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal data: no browser or proxy may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@permission_required("exports.export_contact", raise_exception=True)
@require_GET
def contact_csv(request: SignedInRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    export = services.contact_export(contact=contact, actor=request.user)
    response = HttpResponse(export.content, content_type=export.content_type)
    return _download(response, export.filename)


@login_required
@permission_required("exports.export_contacts_bulk", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contacts_csv(request: SignedInRequest) -> HttpResponse | StreamingHttpResponse:
    """Ask to confirm on GET (a modal for HTMX); stream the CSV on POST."""
    data = request.POST if request.method == "POST" else request.GET
    try:
        bulk = selectors.bulk_selection(data)
    except SelectionError as error:
        return bad_selection(error)

    if request.method == "GET":
        return _confirm_bulk_export(request, bulk)

    exported_at = timezone.now()
    stream = services.contacts_export_stream(
        contacts=bulk.contacts,
        selection=bulk.description,
        actor=request.user,
        exported_at=exported_at,
    )
    response = StreamingHttpResponse(stream, content_type=services.CSV_CONTENT_TYPE)
    return _download(response, services.contacts_export_filename(exported_at))


def _confirm_bulk_export(
    request: SignedInRequest, bulk: selectors.BulkSelection
) -> HttpResponse:
    if bulk.selection.is_all_matching:
        question = _("Export every contact matching this filter as CSV?")
    else:
        count = len(bulk.selection.ids)
        question = ngettext(
            "Export %(count)s contact as CSV?",
            "Export %(count)s contacts as CSV?",
            count,
        ) % {"count": intcomma(count)}
    template = (
        "exports/partials/bulk_export.html"
        if request.htmx
        else "exports/bulk_export.html"
    )
    context = {
        "question": question,
        "selection_fields": bulk.selection.hidden_fields(),
    }
    return render(request, template, context)


@login_required
@permission_required("exports.export_access_bundle", raise_exception=True)
@require_GET
def access_bundle(request: SignedInRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    export = services.access_bundle_export(contact=contact, actor=request.user)
    response = HttpResponse(export.content, content_type=export.content_type)
    return _download(response, export.filename)
