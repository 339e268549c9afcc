"""A Sales rep downloads a contact's CSV from Person Details, in real Chromium."""

import csv
import io

import pytest

from exports.models import ExportRecord
from tests.exports.factories import full_contact
from tests.exports.test_contact_csv import HEADER
from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_sales_rep_downloads_a_contacts_csv_from_person_details(
    sales_rep, browser_page, login_in_browser, live_server
):
    contact = full_contact()
    login_in_browser("rep", "rep-password-1")
    browser_page.get_by_role("heading", name="People").wait_for()
    browser_page.goto(f"{live_server.url}{contact.get_absolute_url()}")

    browser_page.get_by_label("Actions").click()
    with browser_page.expect_download() as download_info:
        browser_page.get_by_role("link", name="Export", exact=True).click()

    download = download_info.value
    assert download.suggested_filename.startswith(f"person-{contact.pk}-")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(io.StringIO(file.read())))
    assert rows[0] == HEADER
    assert rows[1][:2] == ["Zoë", "Müller-Łukasz"]
    assert rows[1][11] == str(contact.pk)
    assert ExportRecord.objects.get().contact_id == contact.pk


def test_an_admin_exports_selected_people_from_the_people_list(
    admin_user, browser_page, login_in_browser, live_server
):
    chosen = [full_contact(), ContactFactory(first_name="Ada", last_name="Byron")]
    ContactFactory(first_name="Left", last_name="Out")
    login_in_browser("boss", "admin-password-1")
    browser_page.get_by_role("heading", name="People").wait_for()

    for contact in chosen:
        browser_page.get_by_label(f"Select {contact.full_name}").check()
    browser_page.get_by_label("Actions").click()
    browser_page.get_by_role("button", name="Export", exact=True).click()
    dialog = browser_page.get_by_role("dialog")
    dialog.get_by_text("Export 2 contacts as CSV?").wait_for()
    with browser_page.expect_download() as download_info:
        dialog.get_by_role("button", name="Download CSV").click()

    download = download_info.value
    assert download.suggested_filename.startswith("people-")
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(io.StringIO(file.read())))
    assert rows[0][:16] == HEADER
    assert sorted(row[11] for row in rows[1:]) == sorted(str(c.pk) for c in chosen)
    dialog.wait_for(state="detached")
    record = ExportRecord.objects.get()
    assert (record.row_count, record.completed) == (2, True)
