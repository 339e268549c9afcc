"""The base layout, error pages and security headers."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("contacts:people"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_people_page_shows_navigation_and_the_user(rep_client):
    response = rep_client.get(reverse("contacts:people"))

    assert response.status_code == 200
    html = response.content.decode()
    assert ">People<" in html
    assert "Sam" in html
    assert "Log out" in html
    assert reverse("admin:index") not in html


def test_admins_see_the_admin_link(admin_client):
    html = admin_client.get(reverse("contacts:people")).content.decode()

    assert reverse("admin:index") in html


def test_an_unknown_address_gets_the_plain_404_page(rep_client):
    response = rep_client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_user_without_a_role_gets_the_plain_403_page(outsider_client):
    response = outsider_client.get(reverse("contacts:people"))

    assert response.status_code == 403
    assert "You are not allowed to do this" in response.content.decode()


def test_responses_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("login"))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_logout_ends_the_session_on_the_server(rep_client):
    session_key = rep_client.session.session_key

    rep_client.post(reverse("logout"))

    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()
    assert rep_client.get(reverse("contacts:people")).status_code == 302
