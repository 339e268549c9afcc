"""Oversized bodies, imports and evidence files are refused with a clear message."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from tests.factories import ContactFactory
from tests.security.fuzz import snapshot
from unsubscribes.choices import Channel
from unsubscribes.models import SubscriptionChange
from unsubscribes.services import contact_unsubscribe

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def test_a_body_larger_than_any_upload_is_refused_before_it_is_read(
    rep_client, settings
):
    settings.MAX_UPLOAD_BYTES = 2 * MB
    before = snapshot()

    # Only the header is sent: the middleware refuses on Content-Length
    # alone, so a body of that size would never be read.
    response = rep_client.generic(
        "POST",
        reverse("contacts:people_import"),
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(3 * MB + 1),
    )

    assert response.status_code == 413
    html = response.content.decode()
    assert "This upload is too large" in html
    assert "Files of up to 2.0\xa0MB can be uploaded. Nothing was saved" in html
    assert snapshot() == before


def test_the_public_unsubscribe_refuses_an_oversized_body_too(client, settings):
    settings.MAX_UPLOAD_BYTES = 1 * MB

    response = client.generic(
        "POST", "/u/anything/", b"", CONTENT_LENGTH=str(2 * MB + 1)
    )

    assert response.status_code == 413


def test_a_body_within_the_limit_reaches_the_form(rep_client, settings):
    settings.MAX_UPLOAD_BYTES = 2 * MB
    upload = SimpleUploadedFile("people.csv", b"email\n" + b"x" * (2 * MB + 10))

    response = rep_client.post(reverse("contacts:people_import"), {"file": upload})

    assert response.status_code == 200
    assert "This file is larger than 2 MB." in response.content.decode()


def _bomb() -> bytes:
    """An XLSX-shaped ZIP whose sheet expands a thousandfold."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", " " * (5 * MB))
    return buffer.getvalue()


def test_an_xlsx_that_expands_enormously_is_refused(rep_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    before = snapshot()

    # A workbook that declares no size is previewed as a job: follow it.
    response = rep_client.post(
        reverse("contacts:people_import"),
        {"file": SimpleUploadedFile("people.xlsx", _bomb())},
        follow=True,
    )

    assert response.status_code == 200
    assert "expands to an unusual size" in response.content.decode()
    assert snapshot() == before


def test_a_failed_upload_leaves_no_file_behind(rep_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = rep_client.post(
        reverse("contacts:people_import"),
        {"file": SimpleUploadedFile("people.csv", b"name\nAnna\n")},
    )

    assert "needs an \u201cemail\u201d column" in response.content.decode()
    assert list((tmp_path / "imports").glob("*")) == []


@pytest.fixture
def unsubscribed(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contact = ContactFactory()
    contact_unsubscribe(contact_id=contact.pk, channel=Channel.USER, actor_name="t")
    return contact


def _resubscribe(client, contact, upload):
    return client.post(
        reverse("unsubscribes:resubscribe", args=[contact.pk]),
        {
            "consent_date": timezone.localdate().isoformat(),
            "processing_purpose": "Newsletter about our products",
            "consent_obtained": "Signed order form",
            "evidence_file": upload,
        },
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("proof.pdf", b"MZ\x90\x00 a Windows program"),
        ("proof.png", b"%PDF-1.4 not an image"),
        ("proof.jpg", b"<html><script>alert(1)</script>"),
        ("proof.txt", b"text with a \x00 NUL: a binary in disguise"),
        ("proof.eml", b"\x7fELF\x02\x01\x01\x00"),
        ("proof.msg", b"From: someone\r\n\r\nnot an Outlook file"),
    ],
)
def test_an_evidence_file_that_is_not_what_its_name_says_is_refused(
    admin_client, unsubscribed, name, content
):
    response = _resubscribe(
        admin_client, unsubscribed, SimpleUploadedFile(name, content)
    )

    assert "This file is not the kind its name says." in response.content.decode()
    assert not SubscriptionChange.objects.filter(action="resubscribe").exists()
    assert Contact.objects.get(pk=unsubscribed.pk).is_unsubscribed


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("proof.pdf", b"%PDF-1.7\n..."),
        ("proof.PNG", b"\x89PNG\r\n\x1a\n...."),
        ("proof.jpeg", b"\xff\xd8\xff\xe0...."),
        ("proof.eml", b"From: Anna <anna@example.com>\r\nSubject: Yes\r\n\r\nYes"),
        ("proof.txt", "Zustimmung erteilt: grün".encode()),
    ],
)
def test_genuine_evidence_files_are_taken(admin_client, unsubscribed, name, content):
    response = _resubscribe(
        admin_client, unsubscribed, SimpleUploadedFile(name, content)
    )

    assert response.status_code == 302
    assert SubscriptionChange.objects.get(action="resubscribe").evidence_file


def test_an_evidence_file_over_the_limit_is_refused(
    admin_client, unsubscribed, settings
):
    settings.MAX_UPLOAD_BYTES = 1 * MB
    upload = SimpleUploadedFile("proof.pdf", b"%PDF-" + b"0" * MB)

    response = _resubscribe(admin_client, unsubscribed, upload)

    assert "Upload a file of at most 1.0\xa0MB." in response.content.decode()
    assert not SubscriptionChange.objects.filter(action="resubscribe").exists()
