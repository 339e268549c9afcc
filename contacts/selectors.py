"""Reads of contacts."""

from django.db.models import QuerySet

from contacts.models import Contact


def contact_list() -> QuerySet[Contact]:
    """Return every contact in the People list's default order."""
    return Contact.objects.order_by("last_name", "first_name", "id")
