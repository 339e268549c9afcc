"""django-import-export's admin export writes through the safe CSV writer."""

import csv
import io

import pytest
import tablib
from django.contrib import admin
from django.core import checks
from import_export.admin import ExportMixin

from contacts.models import Contact
from exports.admin_formats import (
    SafeCSV,
    make_admin_exports_safe,
    unsafe_export_admins,
)
from exports.models import ExportKind, ExportRecord
from tests.exports.factories import full_contact

pytestmark = pytest.mark.django_db


class ContactExportAdmin(ExportMixin, admin.ModelAdmin):
    pass


@pytest.fixture
def site():
    site = admin.AdminSite(name="export-test")
    site.register(Contact, ContactExportAdmin)
    return site


def test_an_exporting_admin_offers_only_the_safe_csv_once_made_safe(site):
    assert unsafe_export_admins(site) != []

    make_admin_exports_safe(site)

    assert unsafe_export_admins(site) == []
    assert site._registry[Contact].get_export_formats() == [SafeCSV]


def test_the_admin_export_neutralises_formulas_drops_nul_and_is_recorded(
    site, rf, admin_user
):
    make_admin_exports_safe(site)
    model_admin = site._registry[Contact]
    contact = full_contact(twitter="-2+3")
    request = rf.get("/admin/contacts/contact/export/")
    request.user = admin_user

    data = model_admin.get_export_data(
        SafeCSV(), request, Contact.objects.all(), encoding="utf-8"
    )

    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "\x00" not in text
    rows = list(csv.DictReader(io.StringIO(text[1:], newline="")))
    assert rows[0]["id"] == str(contact.pk)
    assert rows[0]["other"] == "'=1+1"
    assert rows[0]["twitter"] == "'-2+3"
    assert rows[0]["phone_number"] == "'+44 20 7946 0958"
    record = ExportRecord.objects.get()
    assert record.kind == ExportKind.BULK
    assert record.selection == {"mode": "admin", "model": "contacts.contact"}
    assert record.row_count == 1


def test_safe_csv_drops_nul_that_reaches_it_from_any_source():
    dataset = tablib.Dataset(["a\x00b", "=x"], headers=["h\x00", "i"])

    assert SafeCSV().export_data(dataset) == "\ufeffh,i\r\nab,'=x\r\n"


def test_the_project_passes_the_admin_export_check():
    errors = checks.run_checks(tags=[checks.Tags.security])

    assert [e for e in errors if e.id == "exports.E001"] == []
