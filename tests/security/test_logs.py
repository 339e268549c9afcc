"""Logs never hold names, emails, phone numbers, tokens, passwords or free text.

One test sends every flow of the app through, with every logger at DEBUG, and
scans each record: its formatted message, its arguments, its exception text
and any request it carries (Django's mail handler would print that request,
POST data included).
"""

import logging
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from salesforce_sync.services import sync_run
from tests.factories import ContactFactory
from tests.plugins.figures import record
from tests.salesforce_sync.conftest import salesforce, standin  # noqa: F401
from unsubscribes import tokens

pytestmark = pytest.mark.django_db

# Distinctive values, so a hit is never a coincidence.
PERSON = {
    "first_name": "Quentinella",
    "last_name": "Vasquez-Oyelaran",
    "company": "Zephyrine Widgets",
    "title": "Head of Procurement",
    "email": "quentinella.vasquez@zephyrine.example",
    "phone_number": "+44 20 7946 0321",
    "website": "https://zephyrine.example/",
    "other": "Met at the Lisbon fair",
    "twitter": "@quentinellav",
}
IMPORTED = ("Bartholomeus", "Okonkwo-Lindqvist", "bartholomeus.ok@lindqvist.example")
PURPOSE = "Quarterly digest of Zephyrine offers"
DESCRIPTION = "Referred by a partner at Fairweather"
NOTE = "Signed paper form kept in binder Kestrel"
SUBJECT = "Your Kestrel renewal"
BODY = "Dear Quentinella, here is the Kestrel renewal offer."
SEARCH = "Vasquez-Oyelaran"
LOGIN_NAME = "login.scan.person"
LOGIN_PASSWORD = "Gr4nite-Lantern-Pass"


def _formatted(entry: logging.LogRecord) -> list[str]:
    texts = [entry.getMessage(), str(entry.msg), repr(entry.args)]
    if entry.exc_info:
        texts.append(logging.Formatter().formatException(entry.exc_info))
    if entry.exc_text:
        texts.append(entry.exc_text)
    request = getattr(entry, "request", None)
    if request is not None:
        texts.append(repr(getattr(request, "POST", "")))
        texts.append(request.get_full_path())
    return texts


@pytest.fixture
def every_logger_at_debug():
    """Every logger emits DEBUG records for the test, whatever settings say."""
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in logging.root.manager.loggerDict
    ]
    levels = [(log, log.level) for log in loggers]
    for log in loggers:
        log.setLevel(logging.DEBUG)
    yield
    for log, level in levels:
        log.setLevel(level)


def _flows(client, rep, admin, salesforce, secrets: list[str]) -> None:  # noqa: F811
    # Log in: a failure, then a success, as a person with a distinctive name.
    from accounts.roles import SALES_REP
    from accounts.services import user_create

    user_create(username=LOGIN_NAME, password=LOGIN_PASSWORD, role=SALES_REP)
    client.post(reverse("login"), {"username": LOGIN_NAME, "password": "wrong-pass"})
    client.post(reverse("login"), {"username": LOGIN_NAME, "password": LOGIN_PASSWORD})
    client.post(reverse("logout"))
    client.force_login(rep)

    # Create and edit a contact; change the card; search the list.
    client.post(reverse("contacts:person_create"), PERSON)
    contact = Contact.objects.get(email=PERSON["email"])
    client.post(
        reverse("contacts:person_edit", args=[contact.pk]),
        {**PERSON, "title": "Chief Procurement Officer"},
    )
    secrets.append("Chief Procurement Officer")
    client.post(
        reverse("compliance:card_edit", args=[contact.pk]),
        {
            "permission_type": "consent",
            "consent_date": "2025-03-01",
            "processing_purpose": PURPOSE,
            "source_type": "other",
            "source_type_description": DESCRIPTION,
            "compliance_version": contact.compliance_version,
        },
    )
    client.get(reverse("contacts:people"), {"q": SEARCH})

    # Bulk actions over "all matching" a search for the person.
    selection = {"scope": "all", "filter": urlencode({"q": SEARCH}), "step": "apply"}
    client.post(
        reverse("compliance_bulk:permission"),
        {
            **selection,
            "permission_type": "other",
            "permission_type_description": DESCRIPTION,
        },
    )
    client.post(
        reverse("compliance_bulk:source"),
        {**selection, "source_type": "other", "source_type_description": DESCRIPTION},
    )

    # Send an email, then unsubscribe by link and one-click; a forged token.
    client.post(
        reverse("compliance:card_edit", args=[contact.pk]),
        {
            "permission_type": "consent",
            "consent_date": "2025-03-01",
            "processing_purpose": PURPOSE,
            "source_type": "manual_upload",
            "compliance_version": Contact.objects.get(pk=contact.pk).compliance_version,
        },
    )
    client.post(
        reverse("unsubscribes:send_email", args=[contact.pk]),
        {"subject": SUBJECT, "body": BODY},
    )
    token = tokens.unsubscribe_token(contact.pk)
    secrets.extend([token, token[:-2]])
    anonymous = type(client)()
    anonymous.get(reverse("unsubscribes:unsubscribe", args=[token]))
    anonymous.post(reverse("unsubscribes:unsubscribe", args=[token]))
    anonymous.post(
        reverse("unsubscribes:unsubscribe", args=[token]),
        {"List-Unsubscribe": "One-Click"},
    )
    anonymous.get(reverse("unsubscribes:unsubscribe", args=[token[:-2] + "xx"]))

    # An Admin resubscribes with proof, exports, and builds the access bundle.
    client.force_login(admin)
    client.post(
        reverse("unsubscribes:resubscribe", args=[contact.pk]),
        {
            "consent_date": timezone.localdate().isoformat(),
            "processing_purpose": PURPOSE,
            "consent_obtained": NOTE,
            "evidence_note": NOTE,
            "evidence_file": SimpleUploadedFile(
                "Quentinella-consent.pdf", b"%PDF-1.4 Quentinella"
            ),
        },
    )
    client.get(reverse("exports:contact_csv", args=[contact.pk]))
    response = client.post(
        reverse("exports:contacts_csv"), {"scope": "all", "filter": f"q={SEARCH}"}
    )
    b"".join(response.streaming_content)
    client.get(reverse("exports:access_bundle", args=[contact.pk]))
    client.get(reverse("admin:contacts_contact_changelist"), {"q": SEARCH})

    # Import a file of people: preview, then confirm.
    client.force_login(rep)
    first, last, email = IMPORTED
    csv = f"email,first_name,last_name\n{email},{first},{last}\n".encode()
    preview = client.post(
        reverse("contacts:people_import"),
        {"file": SimpleUploadedFile("people.csv", csv)},
    )
    import_token = preview.context["token"]
    secrets.append(import_token)
    client.post(reverse("contacts:people_import_confirm"), {"token": import_token})

    # Salesforce: a local opt-out pushed, a Salesforce opt-out pulled.
    linked = ContactFactory(
        first_name="Isambard",
        last_name="Thornycroft",
        email="isambard.thornycroft@example.org",
    )
    secrets.extend(["Isambard", "Thornycroft", "isambard.thornycroft@example.org"])
    linked.salesforce_id = salesforce.store.add_contact(
        Email=linked.email, LastName=linked.last_name
    )
    linked.save(update_fields=["salesforce_id"])
    salesforce.store.apply_update(linked.salesforce_id, {"HasOptedOutOfEmail": True})
    client.post(reverse("unsubscribes:person_unsubscribe", args=[contact.pk]))
    sync_run()

    # Unsubscribe, then erase, both people: one alone, one in bulk by search.
    client.post(
        reverse("unsubscribes:bulk_unsubscribe"),
        {"scope": "all", "filter": f"q={last}", "step": "apply"},
    )
    client.post(reverse("contacts:person_delete", args=[contact.pk]))
    client.post(
        reverse("contacts:bulk_delete"),
        {"scope": "all", "filter": f"q={email}", "step": "apply"},
    )


def test_no_flow_writes_personal_data_to_the_logs(
    client,
    sales_rep,
    admin_user,
    salesforce,  # noqa: F811
    settings,
    tmp_path,
    caplog,
    every_logger_at_debug,
):
    settings.MEDIA_ROOT = tmp_path
    settings.UNSUBSCRIBE_RATE_LIMIT = "1000/m"
    caplog.set_level(logging.DEBUG)
    secrets = [
        *(value for key, value in PERSON.items() if key != "website"),
        "zephyrine.example",
        *IMPORTED,
        PURPOSE,
        DESCRIPTION,
        NOTE,
        SUBJECT,
        BODY,
        SEARCH,
        LOGIN_NAME,
        LOGIN_PASSWORD,
    ]

    _flows(client, sales_rep, admin_user, salesforce, secrets)

    assert not Contact.objects.filter(email=PERSON["email"]).exists(), "flows ran"
    # The stand-in's own access log is Salesforce's side of the wire.
    records = [e for e in caplog.records if not e.name.startswith("tests.")]
    leaks = [
        f"{entry.name} {entry.levelname}: {secret!r} in {text!r}"
        for entry in records
        for text in _formatted(entry)
        for secret in secrets
        if secret.lower() in text.lower()
    ]
    record("log records scanned", len(records))
    record("personal data found in log records", len(leaks))
    assert len(records) > 50, "the flows logged next to nothing"
    assert leaks == [], "\n".join(leaks)


def test_the_scan_would_see_a_leak(caplog):
    caplog.set_level(logging.INFO)

    logging.getLogger("contacts.services").info("Created %s", PERSON["email"])

    assert any(
        PERSON["email"] in text for e in caplog.records for text in _formatted(e)
    )
