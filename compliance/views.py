import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import SignedInRequest
from compliance import selectors
from compliance.forms import ComplianceForm
from compliance.models import Channel
from compliance.services import StaleEdit, compliance_update
from contacts.models import Contact

logger = logging.getLogger(__name__)

VIEW = "contacts.view_contact"
EDIT = ("contacts.view_contact", "contacts.change_contact")
VIEW_HISTORY = ("contacts.view_contact", "compliance.view_compliancechange")
# Sent with a saved card so the Compliance history panel reloads itself.
CHANGED_EVENT = "compliance-changed"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def card(request: SignedInRequest, contact_id: int) -> HttpResponse:
    """Return the Compliance card (Cancel swaps it back in place of the form)."""
    contact = get_object_or_404(Contact, pk=contact_id)
    if not request.htmx:
        return redirect(contact)
    return _card(request, contact)


@login_required
@permission_required(EDIT, raise_exception=True)
@require_http_methods(["GET", "POST"])
def card_edit(request: SignedInRequest, contact_id: int) -> HttpResponse:
    """Edit the Compliance card: a partial for HTMX, a whole page without it."""
    contact = get_object_or_404(Contact, pk=contact_id)
    stale = False
    if request.method != "POST":
        form = ComplianceForm.for_contact(contact)
    else:
        form = ComplianceForm(request.POST)
        if form.is_valid():
            try:
                contact = compliance_update(
                    contact_id=contact.pk,
                    changes=form.changes(),
                    channel=Channel.CARD,
                    actor=request.user,
                    expected_version=form.cleaned_data["compliance_version"],
                )
            except StaleEdit as error:
                logger.info("Stale compliance edit of contact %s refused", contact.pk)
                contact, stale = error.contact, True
                form = ComplianceForm.for_contact(contact)
            except ValidationError as error:
                form.add_rule_errors(error)
            else:
                return _saved(request, contact)

    context = {"contact": contact, "form": form, "stale": stale}
    if request.htmx:
        return render(request, "compliance/partials/card_form.html", context)
    return render(request, "compliance/card_edit.html", context)


def _saved(request: SignedInRequest, contact: Contact) -> HttpResponse:
    if not request.htmx:
        messages.success(request, _("Compliance saved."))
        return redirect(contact)
    response = _card(request, contact, saved=True)
    response["HX-Trigger"] = CHANGED_EVENT
    return response


def _card(
    request: SignedInRequest, contact: Contact, saved: bool = False
) -> HttpResponse:
    return render(
        request,
        "compliance/partials/card.html",
        {
            "contact": contact,
            "can_edit": request.user.has_perms(EDIT),
            "saved": saved,
        },
    )


@login_required
@permission_required(VIEW_HISTORY, raise_exception=True)
@require_GET
def history(request: SignedInRequest, contact_id: int) -> HttpResponse:
    """Return one page of the Compliance history panel."""
    contact = get_object_or_404(Contact, pk=contact_id)
    page = request.GET.get("history_page", 1)
    if not request.htmx:
        url = reverse("contacts:person_detail", args=[contact.pk])
        return redirect(f"{url}?history_page={page}#compliance-history")
    return render(
        request,
        "compliance/partials/history.html",
        {
            "contact": contact,
            "page": selectors.compliance_history_page(contact_id=contact.pk, page=page),
        },
    )
