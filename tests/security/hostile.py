"""A contact whose every stored text is a markup or script payload.

The values go straight into the database (a factory, not the forms), as data
arriving by import, by the Salesforce sync or from an older version would:
the pages must escape whatever is stored, not rely on the forms' validation.
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.services import compliance_update
from contacts.choices import PermissionType
from tests.factories import ContactFactory
from unsubscribes.services import ConsentProof, contact_resubscribe, contact_unsubscribe

SCRIPT = "<script>alert('xss')</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "<svg/onload=alert(2)>"

PAYLOADS = {
    "first_name": f"Eve{SCRIPT}",
    "last_name": f"Mallory{IMG}",
    "company": f"Acme{SVG}",
    "title": f"</td></tr></table>{SCRIPT}",
    "email": "eve.payload@example.com",
    "phone_number": f"+1{IMG}",
    "website": "javascript:alert(document.cookie)",
    "other": f"{IMG}{SCRIPT}",
    "facebook": " JavaScript:alert(3)",
    "twitter": f"@eve{SVG}",
    "linkedin": "java\tscript:alert(4)",
}

# Strings that must never reach a page unescaped.
RAW_MARKERS = ("<script>alert", "<img src=x", "<svg/onload")
PURPOSE = f"Newsletter {SCRIPT}"
NOTE = f"Signed form {IMG}"
SUBJECT = f"Hello {SVG}"


def hostile_contact(admin_user):
    """Create the contact, its compliance and unsubscribe history, a sent email."""
    from tests.unsubscribes.factories import SentEmailFactory

    contact = ContactFactory(**PAYLOADS)
    compliance_update(
        contact_id=contact.pk,
        changes={
            "permission_type": PermissionType.OTHER,
            "permission_type_description": f"Other basis {SCRIPT}",
            "source_type": "other",
            "source_type_description": f"A fair {IMG}",
        },
        channel="card",
        actor=admin_user,
    )
    compliance_update(
        contact_id=contact.pk,
        changes={
            "permission_type": PermissionType.CONSENT,
            "consent_date": datetime.date(2025, 1, 1),
            "processing_purpose": PURPOSE,
        },
        channel="card",
        actor=admin_user,
    )
    contact_unsubscribe(contact_id=contact.pk, channel="user", actor_name=SCRIPT)
    contact_resubscribe(
        contact_id=contact.pk,
        actor=admin_user,
        proof=ConsentProof(
            consent_date=timezone.localdate(),
            processing_purpose=PURPOSE,
            consent_obtained=f"Form {SVG}",
            evidence_note=NOTE,
            evidence_file=SimpleUploadedFile(f"{IMG}.pdf", b"%PDF-1.4"),
        ),
    )
    SentEmailFactory(contact=contact, subject=SUBJECT, sender_name=IMG)
    contact.refresh_from_db()
    return contact
