from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from contacts.models import Contact
from exports import selectors, services


def _download(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal data: no browser or proxy may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@permission_required("exports.export_contact", raise_exception=True)
@require_GET
def contact_csv(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    export = services.contact_export(contact=contact, actor=request.user)
    response = HttpResponse(export.content, content_type=export.content_type)
    return _download(response, export.filename)


@login_required
@permission_required("exports.export_contacts_bulk", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contacts_csv(request):
    try:
        selection = selectors.bulk_selection(
            request.POST if request.method == "POST" else request.GET
        )
    except selectors.BadSelection:
        return HttpResponseBadRequest(_("Select at least one contact to export."))
    exported_at = timezone.now()
    stream = services.contacts_export_stream(
        contacts=selection.contacts,
        selection=selection.description,
        actor=request.user,
        exported_at=exported_at,
    )
    response = StreamingHttpResponse(stream, content_type=services.CSV_CONTENT_TYPE)
    return _download(response, services.contacts_export_filename(exported_at))


@login_required
@permission_required("exports.export_access_bundle", raise_exception=True)
@require_GET
def access_bundle(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    export = services.access_bundle_export(contact=contact, actor=request.user)
    response = HttpResponse(export.content, content_type=export.content_type)
    return _download(response, export.filename)
