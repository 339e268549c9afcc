"""The People list's selection and "⋮" menu, as a person uses them, in Chromium."""

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_menu_appears_with_a_selection_and_deletes_through_a_modal(
    sales_rep, browser_page, login_in_browser
):
    contacts = [
        ContactFactory(first_name=name, last_name="Berg")
        for name in ("Anna", "Bruno", "Clara", "Dora")
    ]
    login_in_browser("rep", "rep-password-1")
    page = browser_page

    assert not page.locator("[data-bulk-bar]").is_visible()
    for contact in contacts[:3]:
        page.get_by_label(f"Select {contact.first_name} Berg").check()
    page.get_by_text("3 selected").wait_for()
    page.get_by_label("Actions").click()
    page.get_by_role("button", name="Delete").click()

    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Delete 3 contacts?").wait_for()
    dialog.get_by_role("button", name="Delete").click()

    page.get_by_text("3 contacts deleted.").wait_for()
    assert list(Contact.objects.values_list("pk", flat=True)) == [contacts[3].pk]


def test_select_all_on_the_page_then_all_matching(
    sales_rep, browser_page, login_in_browser
):
    Contact.objects.bulk_create(ContactFactory.build_batch(55))
    login_in_browser("rep", "rep-password-1")
    page = browser_page

    page.get_by_label("Select all on this page").check()
    page.get_by_role("button", name="Select all 55 matching this filter").click()
    page.get_by_text("All 55 matching this filter are selected.").wait_for()
    page.get_by_label("Actions").click()
    page.get_by_role("button", name="Delete").click()

    page.get_by_role("dialog").get_by_text("Delete 55 contacts?").wait_for()


def test_a_refused_selection_shows_its_reason_instead_of_nothing(
    sales_rep, browser_page, login_in_browser
):
    contacts = [
        ContactFactory(first_name=name, last_name="Holm") for name in ("Ebba", "Frans")
    ]
    login_in_browser("rep", "rep-password-1")
    page = browser_page
    page.get_by_label("Select Ebba Holm").check()
    # A page altered since it was served (or sent by a stale script).
    page.get_by_label("Select Ebba Holm").evaluate("box => box.value = 'ebba'")

    page.get_by_label("Actions").click()
    page.get_by_role("button", name="Delete").click()

    alert = page.get_by_role("alert")
    alert.get_by_text(
        "This selection could not be read. Reload the People list and select again."
    ).wait_for()
    assert page.get_by_role("dialog").count() == 0
    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_be_hidden()
    assert Contact.objects.count() == len(contacts)


def test_every_column_fits_a_laptop_screen_and_a_narrower_one_scrolls_the_table(
    sales_rep, browser_page, login_in_browser
):
    ContactFactory(
        first_name="Maximilian",
        last_name="Oberhollenzer",
        company="Nordlicht Handelsgesellschaft GmbH",
        # Browsers do not break lines at a slash: one long "word".
        title="Armed forces logistics/support/administrative officer",
        email="maximilian.oberhollenzer@nordlicht-handel.example",
    )
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    login_in_browser("rep", "rep-password-1")
    created = page.get_by_role("link", name="Created", exact=True)

    box = created.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 1366
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    # Narrower, the table scrolls inside its box; the page itself does not.
    page.set_viewport_size({"width": 1024, "height": 768})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
