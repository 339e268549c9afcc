"""The Compliance card and history as panels of Person Details."""

from django.http import HttpRequest

from compliance import selectors
from compliance.views import EDIT
from contacts.extensions import PersonPanel
from contacts.models import Contact


def _card_context(request: HttpRequest, contact: Contact) -> dict:
    return {"can_edit": request.user.has_perms(EDIT)}


def _history_context(request: HttpRequest, contact: Contact) -> dict:
    page = request.GET.get("history_page", 1)
    return {"page": selectors.compliance_history_page(contact_id=contact.pk, page=page)}


CARD = PersonPanel(
    key="compliance",
    template="compliance/panels/card.html",
    order=10,
    context=_card_context,
)
HISTORY = PersonPanel(
    key="compliance_history",
    template="compliance/panels/history.html",
    order=90,
    context=_history_context,
    permission="compliance.view_compliancechange",
)
