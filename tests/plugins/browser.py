"""Playwright in Debian's Chromium, with a watch for CSP violations.

The browser is never downloaded: Playwright drives /usr/bin/chromium (or
CHROMIUM_PATH) through `executable_path`.
"""

import os
import shutil

import pytest


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = _chromium()
    if not path:
        pytest.skip("needs Chromium: install Debian's chromium package")
    return {
        **browser_type_launch_args,
        "executable_path": path,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def csp_violations(page):
    """Collect the Content-Security-Policy violations the page reports."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return violations


@pytest.fixture
def browser_page(page, csp_violations, live_server):
    """A page on the live server that fails the test on any CSP violation."""
    page.set_default_timeout(10_000)
    yield page
    assert csp_violations == [], f"CSP violations: {csp_violations}"


@pytest.fixture
def login_in_browser(browser_page, live_server):
    """Return a function that logs a user in through the real login form."""

    def login(username: str, password: str) -> None:
        browser_page.goto(f"{live_server.url}/login/")
        browser_page.get_by_label("Username").fill(username)
        browser_page.get_by_label("Password").fill(password)
        browser_page.get_by_role("button", name="Log in").click()

    return login
