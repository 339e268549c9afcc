from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from salesforce_sync import selectors, services
from salesforce_sync.client import is_configured


@login_required
@permission_required("salesforce_sync.view_syncrun", raise_exception=True)
@require_GET
def sync_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "salesforce_sync/sync.html",
        {
            "configured": is_configured(),
            "state": services.sync_state(),
            "runs": selectors.recent_runs(),
            "pending_count": selectors.pending_count(),
            "failure_count": selectors.failure_count(),
            "failures": selectors.recent_failures(),
        },
    )


@login_required
@permission_required("salesforce_sync.run_sync", raise_exception=True)
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    if not is_configured():
        messages.error(request, _("Nothing to sync: Salesforce sync is off."))
    elif services.sync_request():
        messages.success(
            request, _("Sync started. Its run appears below when it finishes.")
        )
    else:
        messages.error(
            request,
            _("Sync not started: the task queue is unreachable. Try again shortly."),
        )
    return redirect("salesforce_sync:page")
