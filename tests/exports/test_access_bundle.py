"""The data-subject access bundle: everything the app stores about a person."""

import csv
import datetime
import io
import json
import zipfile
from unittest.mock import ANY

import pytest
import time_machine
from django.apps import apps
from django.core.files.base import ContentFile
from django.urls import reverse

from compliance.models import Channel as ComplianceChannel
from compliance.services import compliance_update
from contacts.choices import SourceType
from contacts.models import Contact
from exports import services
from exports.bundle import (
    CONTACT_DETAIL_FIELDS,
    CONTACT_NOT_EXPORTED,
    RELATIONS_NOT_IN_BUNDLE,
    SECTIONS,
)
from exports.columns import CONTACT_FIELDS
from exports.models import ExportKind, ExportRecord
from salesforce_sync.models import OutboxEntry, OutboxReason
from tests.exports.factories import EVERY_FIELD, empty_contact, full_contact
from tests.unsubscribes.factories import SentEmailFactory, SubscriptionChangeFactory
from unsubscribes.choices import Action
from unsubscribes.choices import Channel as SubscriptionChannel
from unsubscribes.models import SubscriptionChange

pytestmark = pytest.mark.django_db

EXPORTED = datetime.datetime(2026, 12, 3, 9, 30, 15, tzinfo=datetime.UTC)


def _field_names(model) -> set[str]:
    opts = model._meta
    return {f.name for f in (*opts.concrete_fields, *opts.many_to_many)}


def _relations_to_contact() -> set[tuple[str, str]]:
    """Every field, on any installed model, that points at a contact."""
    return {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and not field.auto_created
        and field.related_model is Contact
    }


def test_every_table_that_points_at_a_contact_is_in_the_bundle_or_excused():
    declared = {(s.model_class()._meta.label, s.contact_field) for s in SECTIONS}
    excused = set(RELATIONS_NOT_IN_BUNDLE)

    missing = _relations_to_contact() - declared - excused

    assert missing == set(), f"add these to exports.bundle.SECTIONS: {missing}"
    assert all(RELATIONS_NOT_IN_BUNDLE.values()), "say why each is left out"


def test_every_contact_field_is_in_the_bundle_or_excused():
    written = set(CONTACT_FIELDS) | set(CONTACT_DETAIL_FIELDS)

    assert _field_names(Contact) - written - set(CONTACT_NOT_EXPORTED) == set()
    assert not written & set(CONTACT_NOT_EXPORTED)
    assert all(CONTACT_NOT_EXPORTED.values())


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.name)
def test_every_field_of_a_related_table_is_written_or_excused(section):
    model = section.model_class()
    written, excused = set(section.fields), set(section.not_exported)

    assert _field_names(model) - written - excused == set()
    assert written - _field_names(model) == set(), "a field that does not exist"
    assert not written & excused
    assert section.contact_field in excused
    assert all(section.not_exported.values())


def _bundle(client, contact):
    with time_machine.travel(EXPORTED, tick=False):
        return client.get(reverse("exports:access_bundle", args=[contact.pk]))


def _open(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.content))


def _csv(archive, name) -> list[dict[str, str]]:
    text = archive.read(name).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


@pytest.fixture
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def _related_rows(contact, sales_rep):
    """Give the contact a row in every related table, through the real paths."""
    compliance_update(
        contact_id=contact.pk,
        changes={"source_type": SourceType.IMPORT},
        channel=ComplianceChannel.CARD,
        actor=sales_rep,
    )
    SubscriptionChangeFactory(
        contact=contact,
        action=Action.RESUBSCRIBE,
        channel=SubscriptionChannel.ADMIN_RESUBSCRIBE,
        consent_date=datetime.date(2026, 5, 1),
        processing_purpose="Product news, asked for again",
        consent_obtained="Signed form at the Lyon fair",
        evidence_note="-- scanned form attached",
        evidence_file=ContentFile(b"%PDF-1.4 proof", name="Zoe Muller consent.pdf"),
    )
    SentEmailFactory(contact=contact, subject='=HYPERLINK("x") Your offer')
    services.contact_export(contact=contact, actor=sales_rep)
    # The sync is off in tests unless a test points it at the stand-in, so its
    # writer asks for no outbox row: write the row it would have written.
    OutboxEntry.objects.create(
        contact=contact, reason=OutboxReason.RESUBSCRIBE, channel="admin_resubscribe"
    )


def test_the_bundle_holds_every_personal_field_and_every_related_row(
    admin_client, sales_rep, private_media
):
    contact = full_contact()
    _related_rows(contact, sales_rep)
    _related_rows(empty_contact(), sales_rep)

    archive = _open(_bundle(admin_client, contact))

    evidence = SubscriptionChange.objects.get(contact=contact)
    evidence_path = (
        f"files/subscriptionchange/{evidence.pk}-"
        + (evidence.evidence_file.name.rsplit("/", 1)[-1])
    )
    expected_files = {"contact.csv", "contact-details.csv", "bundle.json"}
    expected_files |= {f"{s.name}.csv" for s in SECTIONS}
    assert set(archive.namelist()) == expected_files | {evidence_path}
    assert archive.read(evidence_path) == b"%PDF-1.4 proof"

    document = json.loads(archive.read("bundle.json"))
    person = document["contact"]
    assert document["person_id"] == contact.pk
    assert person["id"] == contact.pk
    # Saving the card counts as activity (contacts.retention).
    contact.refresh_from_db()
    expected = {
        **EVERY_FIELD,
        "source_type": SourceType.IMPORT,
        "last_activity_at": contact.last_activity_at,
    }
    for name, value in expected.items():
        field = Contact._meta.get_field(name)
        if field.choices:
            value = str(dict(field.choices)[value])
        elif isinstance(value, datetime.datetime):
            value = value.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        assert person[name] == value, name
    assert person["is_unsubscribed"] is True

    assert document["compliance-history"] == [
        {
            "changed_at": ANY,
            "channel": "Compliance card",
            "field": "source_type",
            "old_value": "manual_upload",
            "new_value": "import",
            "actor_name": "rep",
        }
    ]
    assert document["unsubscribe-history"] == [
        {
            "changed_at": ANY,
            "action": "Resubscribe",
            "channel": "Admin resubscribe",
            "actor_name": "rep",
            "consent_date": "2026-05-01",
            "processing_purpose": "Product news, asked for again",
            "consent_obtained": "Signed form at the Lyon fair",
            "evidence_note": "-- scanned form attached",
            "evidence_file": evidence_path,
        }
    ]
    assert [e["subject"] for e in document["sent-emails"]] == [
        '=HYPERLINK("x") Your offer'
    ]
    assert [e["kind"] for e in document["export-history"]] == ["Contact CSV"]

    for section in SECTIONS:
        rows = _csv(archive, f"{section.name}.csv")
        assert len(rows) == len(document[section.name]) == 1, section.name
        assert list(rows[0]) == list(section.fields)
    assert _csv(archive, "sent-emails.csv")[0]["subject"] == (
        '\'=HYPERLINK("x") Your offer'
    )
    assert _csv(archive, "unsubscribe-history.csv")[0]["evidence_note"] == (
        "'-- scanned form attached"
    )
    details = _csv(archive, "contact-details.csv")
    assert details[0]["consent_expires_on"] == "2028-03-01"
    assert _csv(archive, "contact.csv")[0]["Person ID"] == str(contact.pk)


def test_the_bundle_is_a_recorded_uncached_zip_download(admin_client, admin_user):
    contact = empty_contact()

    response = _bundle(admin_client, contact)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="person-{contact.pk}-access-2026-12-03.zip"'
    )
    assert response["Cache-Control"] == "no-store"
    record = ExportRecord.objects.get()
    assert record.kind == ExportKind.ACCESS_BUNDLE
    assert record.contact == contact
    assert record.actor == admin_user
    assert record.exported_at == EXPORTED


def test_cells_in_every_bundle_csv_are_neutralised(admin_client):
    contact = full_contact(processing_purpose="@SUM(A1:A9) of purposes")

    archive = _open(_bundle(admin_client, contact))

    assert _csv(archive, "contact-details.csv")[0]["processing_purpose"] == (
        "'@SUM(A1:A9) of purposes"
    )
    assert _csv(archive, "contact.csv")[0]["Other"] == "'=1+1"


@pytest.mark.parametrize("client_fixture", ["rep_client", "outsider_client"])
def test_users_without_the_bundle_permission_are_refused(request, client_fixture):
    client = request.getfixturevalue(client_fixture)

    response = _bundle(client, empty_contact())

    assert response.status_code == 403
    assert not ExportRecord.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client):
    response = _bundle(client, empty_contact())

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_person_details_offers_the_bundle_to_admins(admin_client):
    contact = empty_contact()

    page = admin_client.get(contact.get_absolute_url()).content.decode()

    assert reverse("exports:access_bundle", args=[contact.pk]) in page
    assert ">Access bundle<" in page
