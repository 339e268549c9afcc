"""Logging in, as a person does it, in real Chromium."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_sales_rep_logs_in_and_lands_on_people(
    sales_rep, browser_page, login_in_browser, live_server
):
    login_in_browser("rep", "rep-password-1")

    browser_page.get_by_role("heading", name="People").wait_for()
    assert browser_page.url == f"{live_server.url}/people/"
    assert browser_page.get_by_role("button", name="Log out").is_visible()


def test_a_wrong_password_shows_an_error_and_opens_no_session(
    sales_rep, browser_page, login_in_browser, live_server
):
    from django.contrib.sessions.models import Session

    login_in_browser("rep", "not-the-password")

    error = browser_page.get_by_role("alert")
    error.wait_for()
    assert "correct username and password" in error.inner_text()
    assert browser_page.url.startswith(f"{live_server.url}/login/")
    assert not Session.objects.exists()
    session_cookies = [
        c for c in browser_page.context.cookies() if c["name"] == "sessionid"
    ]
    assert session_cookies == []
