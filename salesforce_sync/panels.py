"""The "Salesforce sync" card on Person Details."""

from django.http import HttpRequest

from contacts.models import Contact
from salesforce_sync import selectors
from salesforce_sync.client import is_configured


def person_panel_context(request: HttpRequest, contact: Contact) -> dict:
    """Return what the card shows: the link and the latest push."""
    return {
        "configured": is_configured(),
        "entry": selectors.contact_latest_entry(contact.pk),
    }
