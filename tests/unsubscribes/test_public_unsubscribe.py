"""The public /u/<token>/ pages: confirm on GET, unsubscribe on POST, 404 else."""

import logging
import string
import uuid

import pytest
from django.core import signing
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from salesforce_sync.models import OutboxEntry, OutboxReason, OutboxStatus
from tests.factories import ContactFactory
from tests.plugins.private_services import free_port
from unsubscribes import tokens
from unsubscribes.choices import Channel
from unsubscribes.models import SubscriptionChange

pytestmark = pytest.mark.django_db

TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_:"


def _url(token: str) -> str:
    return reverse("unsubscribes:unsubscribe", args=[token])


@pytest.fixture
def contact():
    return ContactFactory()


@pytest.fixture
def mail_client():
    """A client like a mail provider's: no cookies, and CSRF checks on."""
    return Client(enforce_csrf_checks=True)


def _assert_nothing_written(contact) -> None:
    contact.refresh_from_db()
    assert contact.is_unsubscribed is False
    assert not SubscriptionChange.objects.exists()


@pytest.mark.parametrize("method", ["get", "head"])
def test_opening_the_link_shows_the_button_and_changes_nothing(client, contact, method):
    response = getattr(client, method)(_url(tokens.unsubscribe_token(contact.pk)))

    assert response.status_code == 200
    if method == "get":
        html = response.content.decode()
        assert '<button type="submit" class="button primary">Unsubscribe' in html
        assert "csrfmiddlewaretoken" not in html
    _assert_nothing_written(contact)


def test_the_button_unsubscribes_with_a_200_and_no_redirect(mail_client, contact):
    response = mail_client.post(_url(tokens.unsubscribe_token(contact.pk)))

    contact.refresh_from_db()
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert contact.is_unsubscribed is True
    change = SubscriptionChange.objects.get(contact=contact)
    assert (change.channel, change.actor_name) == (
        Channel.UNSUBSCRIBE_LINK,
        "Recipient",
    )


def test_a_one_click_post_as_form_data_unsubscribes(mail_client, contact):
    response = mail_client.post(
        _url(tokens.unsubscribe_token(contact.pk)),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not response.cookies
    assert SubscriptionChange.objects.get(contact=contact).channel == Channel.ONE_CLICK


def test_a_one_click_post_is_answered_in_one_plain_sentence(mail_client, contact):
    # Nobody reads it: the mail client posts in the background.
    response = mail_client.post(
        _url(tokens.unsubscribe_token(contact.pk)),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        headers={"accept-language": "fr"},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "Vous êtes désabonné"


def _one_click_statements(client, contact, connection) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            _url(tokens.unsubscribe_token(contact.pk)),
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 200
    return [query["sql"].split(None, 1)[0] for query in queries.captured_queries]


def test_a_one_click_post_is_one_statement_with_its_outbox_row(
    mail_client, postgres, settings
):
    # The busiest public endpoint. With the sync configured, the status, its
    # history row and the sync's outbox row are one statement, prepared the
    # first time a connection runs it.
    settings.SALESFORCE_USERNAME = "sync@example.com"
    settings.SALESFORCE_PASSWORD = "secret"
    settings.SALESFORCE_SECURITY_TOKEN = "token"
    first, second = ContactFactory.create_batch(2)

    first_statements = _one_click_statements(mail_client, first, postgres)
    second_statements = _one_click_statements(mail_client, second, postgres)

    # No transaction of its own either: not even a savepoint in the test's.
    assert first_statements in (["PREPARE", "EXECUTE"], ["EXECUTE"])
    assert second_statements == ["EXECUTE"]
    for contact in (first, second):
        contact.refresh_from_db()
        assert contact.is_unsubscribed is True
        change = SubscriptionChange.objects.get(contact=contact)
        assert change.changed_at == contact.subscription_changed_at
        queued = OutboxEntry.objects.get(contact=contact)
        assert (queued.reason, queued.channel, queued.status) == (
            OutboxReason.UNSUBSCRIBE,
            Channel.ONE_CLICK,
            OutboxStatus.PENDING,
        )
        assert queued.created_at is not None


def test_a_token_for_an_erased_contact_gets_the_plain_404(mail_client):
    token = tokens.unsubscribe_token(987_654)

    response = mail_client.post(_url(token), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 404
    assert not SubscriptionChange.objects.exists()


def test_a_one_click_post_as_multipart_data_unsubscribes(mail_client, contact):
    # The test client encodes a dict as multipart/form-data.
    response = mail_client.post(
        _url(tokens.unsubscribe_token(contact.pk)),
        data={"List-Unsubscribe": "One-Click"},
    )

    assert response.status_code == 200
    assert SubscriptionChange.objects.get(contact=contact).channel == Channel.ONE_CLICK


def test_repeated_posts_add_no_second_row(mail_client, contact):
    url = _url(tokens.unsubscribe_token(contact.pk))

    responses = [
        mail_client.post(url, data={"List-Unsubscribe": "One-Click"}) for _ in range(3)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert SubscriptionChange.objects.filter(contact=contact).count() == 1


def test_a_token_unsubscribes_exactly_its_own_contact(mail_client, contact):
    neighbour = ContactFactory()

    mail_client.post(_url(tokens.unsubscribe_token(contact.pk)))

    neighbour.refresh_from_db()
    assert neighbour.is_unsubscribed is False
    assert list(SubscriptionChange.objects.values_list("contact_id", flat=True)) == [
        contact.pk
    ]


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda pk: signing.dumps({"c": pk}), id="another salt"),
        pytest.param(
            lambda pk: signing.dumps({"c": pk}, salt="salesinsight.other"),
            id="a neighbouring salt",
        ),
        pytest.param(lambda pk: signing.dumps(pk, salt=tokens.SALT), id="bare id"),
        pytest.param(
            lambda pk: signing.dumps({"c": str(pk)}, salt=tokens.SALT), id="text id"
        ),
        pytest.param(
            lambda pk: signing.dumps({"c": pk}, salt=tokens.SALT, key="other-key"),
            id="another key",
        ),
        pytest.param(lambda pk: tokens.unsubscribe_token(pk + 1000), id="no contact"),
        pytest.param(lambda pk: str(pk), id="the plain id"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_foreign_token_gets_the_plain_404(mail_client, contact, make_token, method):
    response = getattr(mail_client, method)(_url(make_token(contact.pk)))

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    _assert_nothing_written(contact)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(forged=st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=120))
def test_forged_tokens_always_get_404_and_write_nothing(mail_client, contact, forged):
    response = mail_client.post(_url(forged), data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 404
    _assert_nothing_written(contact)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_tampered_tokens_always_get_404_and_write_nothing(mail_client, contact, data):
    genuine = tokens.unsubscribe_token(contact.pk)
    position = data.draw(st.integers(0, len(genuine) - 1))
    replacement = data.draw(
        st.sampled_from(TOKEN_ALPHABET).filter(lambda c: c != genuine[position])
    )
    tampered = genuine[:position] + replacement + genuine[position + 1 :]

    response = mail_client.post(_url(tampered), data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 404
    _assert_nothing_written(contact)


def test_links_survive_a_secret_key_rotation(settings, mail_client, contact):
    old_key = settings.SECRET_KEY
    token = tokens.unsubscribe_token(contact.pk)
    settings.SECRET_KEY = "a-brand-new-secret-key-after-rotation-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = [old_key]

    response = mail_client.post(_url(token))

    assert response.status_code == 200
    assert SubscriptionChange.objects.filter(contact=contact).count() == 1


def test_links_of_a_retired_key_stop_working(settings, mail_client, contact):
    token = tokens.unsubscribe_token(contact.pk)
    settings.SECRET_KEY = "a-brand-new-secret-key-after-rotation-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = []

    response = mail_client.post(_url(token))

    assert response.status_code == 404
    _assert_nothing_written(contact)


def test_too_many_requests_from_one_client_get_a_plain_429(settings, contact):
    settings.UNSUBSCRIBE_RATE_LIMIT = "3/m"
    # A fresh address, so no earlier test's requests count against it.
    client = Client(
        REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    )
    url = _url(tokens.unsubscribe_token(contact.pk))

    allowed = [client.get(url).status_code for _ in range(3)]
    refused = client.post(url)

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    _assert_nothing_written(contact)


def test_the_button_still_unsubscribes_when_the_rate_limit_store_is_down(
    settings, mail_client, contact
):
    # Redis, which keeps the counts, refuses connections: nothing listens here.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    response = mail_client.post(_url(tokens.unsubscribe_token(contact.pk)))

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.is_unsubscribed is True
    assert SubscriptionChange.objects.filter(contact=contact).count() == 1


def test_the_token_is_never_logged(caplog, mail_client, contact):
    token = tokens.unsubscribe_token(contact.pk)
    caplog.set_level(logging.DEBUG)

    mail_client.get(_url(token))
    mail_client.post(_url(token))
    mail_client.post(_url(token + "x"))
    mail_client.put(_url(token))

    assert caplog.records
    assert not [r for r in caplog.records if token in r.getMessage()]


def test_a_server_error_on_the_page_logs_the_path_without_its_token(
    caplog, monkeypatch, contact
):
    from unsubscribes import views

    # Simulate a crash in the middle of the request: the real service has none.
    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(views.services, "contact_unsubscribe", crash)
    token = tokens.unsubscribe_token(contact.pk)
    client = Client(raise_request_exception=False)

    response = client.post(_url(token))

    assert response.status_code == 500
    errors = [r for r in caplog.records if r.name == "django.request"]
    assert errors
    assert all(token not in r.getMessage() for r in errors)
    assert "/u/[token]" in errors[0].getMessage()
