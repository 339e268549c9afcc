"""The Compliance card as a Sales rep uses it, in real Chromium."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PURPOSE = "Quarterly newsletter about data-protection tooling."


def test_a_sales_rep_records_consent_on_the_card(
    sales_rep, browser_page, login_in_browser, live_server
):
    page = browser_page
    contact = ContactFactory(first_name="Anna", last_name="Müller")
    login_in_browser("rep", "rep-password-1")
    page.get_by_role("heading", name="People").wait_for()

    page.goto(f"{live_server.url}/people/{contact.pk}/")
    card = page.get_by_role("region", name="Compliance", exact=True)
    history = page.get_by_role("region", name="Compliance history")
    expect(history).to_contain_text("No compliance changes recorded yet.")
    card.get_by_role("link", name="Edit").click()

    permission = card.get_by_label("Permission type", exact=True)
    consent_date = card.get_by_label("Consent date")
    purpose = card.get_by_label("Processing purpose")
    expect(consent_date).to_be_hidden()
    permission.select_option(label="Consent")
    expect(consent_date).to_be_visible()
    expect(purpose).to_be_visible()
    card.get_by_role("button", name="Save").click()

    expect(card.locator("#compliance_consent_date_error")).to_have_text(
        "This field is required."
    )
    assert page.url == f"{live_server.url}/people/{contact.pk}/"

    today = timezone.localdate()
    card.get_by_label("Consent date").fill(today.isoformat())
    card.get_by_label("Processing purpose").fill(PURPOSE)
    card.get_by_role("button", name="Save").click()

    expect(card.get_by_role("link", name="Edit")).to_be_visible()
    expect(card).to_contain_text("Consent")
    expect(card).to_contain_text(PURPOSE)
    expect(card).to_contain_text("Compliance saved.")
    expect(history).to_contain_text("Not set → Consent")
    expect(history).to_contain_text(re.compile(r"Processing purpose\s*— → " + PURPOSE))
    expect(history).to_contain_text("Compliance card")
    contact.refresh_from_db()
    assert (contact.permission_type, contact.consent_date) == ("consent", today)


def test_cancel_restores_the_card_without_saving(
    sales_rep, browser_page, login_in_browser, live_server
):
    page = browser_page
    contact = ContactFactory()
    login_in_browser("rep", "rep-password-1")
    page.get_by_role("heading", name="People").wait_for()

    page.goto(f"{live_server.url}/people/{contact.pk}/")
    card = page.get_by_role("region", name="Compliance", exact=True)
    card.get_by_role("link", name="Edit").click()
    card.get_by_label("Source type", exact=True).select_option(label="Other")
    expect(card.get_by_label("Source type description")).to_be_visible()
    card.get_by_role("link", name="Cancel").click()

    expect(card.get_by_role("link", name="Edit")).to_be_visible()
    expect(card).not_to_contain_text("Source type description")
    contact.refresh_from_db()
    assert contact.source_type == "not_set"
