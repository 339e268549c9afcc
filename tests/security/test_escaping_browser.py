"""Stored script payloads run nowhere, in real Chromium, under the strict CSP.

The browser_page fixture fails the test on any Content-Security-Policy
violation the console reports; here every JavaScript dialog is recorded too,
so a payload that ran (alert) or was blocked by the CSP (a violation) both
fail the test.
"""

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.security.hostile import hostile_contact
from unsubscribes import tokens
from unsubscribes.mail import email_send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dialogs(browser_page):
    opened: list[str] = []

    def record(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    browser_page.on("dialog", record)
    return opened


def test_pages_showing_hostile_data_run_no_script(
    admin_user,
    browser_page,
    login_in_browser,
    live_server,
    dialogs,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path / "private"
    contact = hostile_contact(admin_user)
    page = browser_page
    login_in_browser("boss", "admin-password-1")
    page.get_by_role("heading", name="People").wait_for()
    expect(page.get_by_role("link", name="Eve<script>")).to_be_visible()

    page.goto(f"{live_server.url}/people/{contact.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Eve<script>alert('xss')</script>"
    )
    # No address became a link: they are all javascript: ones.
    details = page.get_by_role("region", name="Details")
    expect(details.get_by_role("link")).to_have_count(1)  # only "Edit"
    card = page.get_by_role("region", name="Compliance", exact=True)
    card.get_by_role("link", name="Edit").click()
    expect(card.get_by_role("button", name="Save")).to_be_visible()
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_role("link", name="Edit")).to_be_visible()

    for path in (
        f"/people/{contact.pk}/edit/",
        f"/people/{contact.pk}/email/",
        f"/people/{contact.pk}/delete/",
        f"/compliance/bulk/permission/?scope=ids&ids={contact.pk}",
        f"/admin/contacts/contact/{contact.pk}/change/",
        "/admin/contacts/contact/",
        "/admin/compliance/compliancechange/",
        "/admin/unsubscribes/subscriptionchange/",
        "/admin/unsubscribes/sentemail/",
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")

    assert dialogs == []


def test_the_unsubscribe_pages_and_the_email_run_no_script(
    sales_rep, admin_user, browser_page, live_server, dialogs, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.SITE_URL = live_server.url
    contact = hostile_contact(admin_user)
    email_send(
        contact_id=contact.pk,
        subject="Hello",
        body="Dear <script>alert('body')</script>\n<img src=x onerror=alert(1)>",
        sender=sales_rep,
    )
    html = {mime: body for body, mime in mail.outbox[0].alternatives}["text/html"]
    page = browser_page

    page.goto(f"{live_server.url}/u/{tokens.unsubscribe_token(contact.pk)}/")
    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_load_state("load")
    page.set_content(html)
    expect(page.get_by_text("Dear <script>")).to_be_visible()

    assert dialogs == []
