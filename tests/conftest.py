"""Fixtures shared by the whole suite: standing users, real services, a browser.

A test that needs a service the machine lacks (PostgreSQL, Redis, Chromium) is
skipped with the reason; with REQUIRE_SERVICES=1, as in CI, every skip is
turned into a failure instead (tests/plugins/require_services.py).
"""

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# that tests make beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.plugins.require_services",
    "tests.plugins.services",
    "tests.plugins.browser",
    "tests.plugins.artifacts",
    "tests.plugins.figures",
    "tests.plugins.private_services",
    "tests.plugins.faults_report",
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache.

    Login lockouts and rate limits live in the cache, which is Redis when
    REDIS_URL is set: without this, one test's failed logins would lock the
    next test's user out.
    """
    from django.core.cache import cache

    from salesforce_sync.services import queued_relay

    cache.clear()
    # What this process remembers of a relay queued in the cleared cache.
    queued_relay.forget()


@pytest.fixture
def sales_rep(db):
    from accounts.roles import SALES_REP
    from accounts.services import user_create

    return user_create(
        username="rep", password="rep-password-1", role=SALES_REP, first_name="Sam"
    )


@pytest.fixture
def admin_user(db):
    """An Admin by role (staff, in the Admin group), not a superuser."""
    from accounts.roles import ADMIN
    from accounts.services import user_create

    return user_create(
        username="boss", password="admin-password-1", role=ADMIN, first_name="Ada"
    )


@pytest.fixture
def outsider(db):
    """A user who can log in but holds no role."""
    from django.contrib.auth.models import User

    return User.objects.create_user(username="outsider", password="outsider-pass-1")


@pytest.fixture
def rep_client(client, sales_rep):
    client.force_login(sales_rep)
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def chromium_path():
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        pytest.skip("needs Chromium: install Debian's chromium package")
    return path
