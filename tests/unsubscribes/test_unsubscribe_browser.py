"""From a real email to an unsubscribe, as a person does it, in real Chromium."""

import re

import pytest

from contacts.choices import PermissionType
from tests.factories import ContactFactory
from unsubscribes.models import SubscriptionChange

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _send_email(page, subject: str) -> None:
    page.get_by_role("link", name="Send email").click()
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Body").fill("Hello,\nwe have news for you.")
    page.get_by_role("button", name="Send").click()


def test_a_person_unsubscribes_through_the_link_in_a_real_email(
    sales_rep, browser_page, login_in_browser, live_server, smtp_inbox, settings
):
    settings.SITE_URL = live_server.url
    contact = ContactFactory(
        first_name="Ann",
        last_name="Lee",
        permission_type=PermissionType.LEGITIMATE_INTEREST,
    )
    page = browser_page
    login_in_browser("rep", "rep-password-1")
    page.goto(f"{live_server.url}{contact.get_absolute_url()}")

    _send_email(page, "Spring offer")
    page.get_by_text("Email sent.").wait_for()

    [received] = smtp_inbox.messages
    text = received.get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(live_server.url)}/u/[^/\s]+/", text).group(0)
    page.goto(link)
    button = page.get_by_role("button", name="Unsubscribe")
    assert button.is_visible()
    contact.refresh_from_db()
    assert contact.is_unsubscribed is False
    assert not SubscriptionChange.objects.exists()

    button.click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert page.url == link

    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    history = page.locator("#subscription")
    assert "Unsubscribe link" in history.inner_text()
    assert "Unsubscribed" in history.inner_text()

    _send_email(page, "Another offer")
    page.get_by_role("alert").filter(
        has_text="Not sent: this person has unsubscribed."
    ).wait_for()
    assert len(smtp_inbox.messages) == 1
