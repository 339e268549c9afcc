from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, render

from contacts import extensions
from contacts.listing import people_listing
from contacts.models import Contact


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
def people(request):
    return render(
        request,
        "contacts/people.html",
        {
            "listing": people_listing(request.GET),
            "bulk_actions": extensions.bulk_actions_for(request.user),
        },
    )


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
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
