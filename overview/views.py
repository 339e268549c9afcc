from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from overview import selectors, services

VIEW = "overview.view_overview"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Show the newest summary's figures; never count contacts here."""
    summary = selectors.latest_summary()
    context = {"overview": selectors.overview_for(summary) if summary else None}
    return render(request, "overview/overview.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    if services.summary_refresh_request():
        messages.success(
            request, _("Refresh queued. The figures update once it has run.")
        )
    else:
        messages.info(request, _("A refresh is already queued."))
    return redirect("overview:overview")
