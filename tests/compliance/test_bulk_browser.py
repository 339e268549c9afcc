"""The Permission bulk action as a Sales rep uses it, in real Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_sales_rep_sets_legitimate_interest_on_three_contacts(
    sales_rep, browser_page, login_in_browser, live_server
):
    page = browser_page
    chosen = [
        ContactFactory(first_name=name, last_name="Lindqvist")
        for name in ("Freja", "Oskar", "Maja")
    ]
    untouched = ContactFactory(first_name="Lars", last_name="Lindqvist")
    login_in_browser("rep", "rep-password-1")
    page.get_by_role("heading", name="People").wait_for()

    expect(page.get_by_label("Actions")).to_be_hidden()
    for contact in chosen:
        page.get_by_label(f"Select {contact.first_name} Lindqvist").check()
    page.get_by_label("Actions").click()
    page.get_by_role("button", name="Permission").click()

    dialog = page.get_by_role("dialog", name="Permission")
    permission = dialog.get_by_label("Permission type", exact=True)
    expect(dialog.get_by_label("Consent date")).to_be_hidden()
    permission.select_option(label="Consent")
    expect(dialog.get_by_label("Consent date")).to_be_visible()
    permission.select_option(label="Legitimate interest")
    expect(dialog.get_by_label("Consent date")).to_be_hidden()
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog).to_contain_text(
        "Set Permission type to Legitimate interest for 3 contacts?"
    )
    dialog.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Permission updated for 3 contacts."
    )
    for contact in chosen:
        page.goto(f"{live_server.url}/people/{contact.pk}/")
        card = page.get_by_role("region", name="Compliance", exact=True)
        expect(card).to_contain_text("Legitimate interest")
        history = page.get_by_role("region", name="Compliance history")
        expect(history).to_contain_text("Bulk action")
    page.goto(f"{live_server.url}/people/{untouched.pk}/")
    expect(
        page.get_by_role("region", name="Compliance", exact=True)
    ).not_to_contain_text("Legitimate interest")
