"""Logging in: lockout, session handling and deactivated users."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _fail_login(client, username="rep", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": "wrong"}, **extra
    )


def test_repeated_failures_lock_the_username_out_even_with_the_right_password(
    client, sales_rep
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail_login(client)

    response = client.post(
        reverse("login"), {"username": "rep", "password": "rep-password-1"}
    )

    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_spoofed_forwarded_for_header_does_not_reset_the_counter(client, sales_rep):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _fail_login(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")

    response = client.post(
        reverse("login"),
        {"username": "rep", "password": "rep-password-1"},
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )

    assert response.status_code == 429


def test_a_lockout_of_one_username_leaves_other_users_alone(
    client, sales_rep, admin_user
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail_login(client)

    response = client.post(
        reverse("login"), {"username": "boss", "password": "admin-password-1"}
    )

    assert response.status_code == 302


def test_the_session_id_changes_at_login(client, sales_rep):
    client.get(reverse("login"))
    session = client.session
    session["before_login"] = True
    session.save()
    key_before = session.session_key

    client.post(reverse("login"), {"username": "rep", "password": "rep-password-1"})

    assert client.session.session_key != key_before
    assert not Session.objects.filter(session_key=key_before).exists()


def test_a_deactivated_users_sessions_stop_working(rep_client, sales_rep):
    assert rep_client.get(reverse("contacts:people")).status_code == 200

    sales_rep.is_active = False
    sales_rep.save(update_fields=["is_active"])

    response = rep_client.get(reverse("contacts:people"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_logging_out_ends_the_session_on_the_server(client, sales_rep):
    client.post(reverse("login"), {"username": "rep", "password": "rep-password-1"})
    key = client.session.session_key
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post(reverse("logout"))

    assert not Session.objects.filter(session_key=key).exists()
    # A copy of the old cookie, replayed, is a stranger's.
    replay = type(client)()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = replay.get(reverse("contacts:people"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.fixture
def redis_gone(settings):
    """Count failed logins in a Redis that is not there (nothing listens on port 1)."""
    from axes.handlers.proxy import AxesProxyHandler

    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    AxesProxyHandler.get_implementation(force=True)
    yield
    # Built again from the settings as the settings fixture restores them.
    AxesProxyHandler.implementation = None


@pytest.mark.parametrize("password", ["rep-password-1", "wrong"])
def test_while_redis_is_down_a_login_is_refused_on_the_form_with_a_503(
    client, sales_rep, redis_gone, password
):
    response = client.post(reverse("login"), {"username": "rep", "password": password})

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    html = response.content.decode()
    assert "Logging in is unavailable for a moment" in html
    assert 'value="rep"' in html
    assert password not in html
    assert "_auth_user_id" not in client.session
