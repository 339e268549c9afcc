"""The Compliance overview in real Chromium, in English and in French."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from compliance.models import Channel, ComplianceChange
from contacts.choices import PermissionType, SourceType
from overview.services import summary_refresh
from tests.factories import ContactFactory, contacts_in_bulk
from unsubscribes.choices import Action
from unsubscribes.choices import Channel as SubscriptionChannel
from unsubscribes.models import SubscriptionChange

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed_contact_base() -> None:
    """A small contact base with history spread over the last months."""
    now = timezone.now()
    contacts_in_bulk(40, permission_type=PermissionType.CONSENT, consent_date=None)
    contacts_in_bulk(25, permission_type=PermissionType.LEGITIMATE_INTEREST)
    contacts_in_bulk(12, source_type=SourceType.IMPORT)
    contacts_in_bulk(8, permission_type=PermissionType.CONTRACT)
    person = ContactFactory(permission_type=PermissionType.CONSENT)
    SubscriptionChange.objects.bulk_create(
        SubscriptionChange(
            contact=person,
            changed_at=now - datetime.timedelta(days=3 * week + week % 5),
            action=Action.RESUBSCRIBE if week % 7 == 6 else Action.UNSUBSCRIBE,
            channel=(
                SubscriptionChannel.ADMIN_RESUBSCRIBE
                if week % 7 == 6
                else [SubscriptionChannel.ONE_CLICK, SubscriptionChannel.USER][week % 2]
            ),
            actor_name="system",
        )
        for week in range(50)
    )
    ComplianceChange.objects.bulk_create(
        ComplianceChange(
            contact=person,
            actor_name="system",
            channel=[Channel.CARD, Channel.BULK, Channel.IMPORT][day % 3],
            field="permission_type",
            new_value="consent",
            changed_at=now - datetime.timedelta(days=2 * day, minutes=day),
        )
        for day in range(70)
    )
    summary_refresh()


def test_the_overview_opens_in_english_and_in_french(
    sales_rep, browser_page, login_in_browser, live_server, artifact_path
):
    page = browser_page
    seed_contact_base()
    login_in_browser("rep", "rep-password-1")
    page.get_by_role("heading", name="People").wait_for()

    page.get_by_role("link", name="Compliance overview").click()
    expect(page.get_by_role("heading", name="Compliance overview")).to_be_visible()
    expect(page.get_by_role("img", name="Contacts by Permission type")).to_be_visible()
    expect(page.locator("[data-gap=no_permission_type]")).to_contain_text("12")
    english = artifact_path("overview-en.png")
    page.screenshot(path=str(english), full_page=True)

    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(
        page.get_by_role("heading", name="Vue d'ensemble de la conformité")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Contacts par base légale")).to_be_visible()
    expect(page.locator("[data-as-of]")).to_contain_text("Chiffres arrêtés au")
    french = artifact_path("overview-fr.png")
    page.screenshot(path=str(french), full_page=True)

    assert english.stat().st_size > 10_000
    assert french.stat().st_size > 10_000
