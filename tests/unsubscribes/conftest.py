"""Fixtures of the unsubscribes tests."""

import email
import email.message
import email.policy
import socket

import pytest

from unsubscribes import extensions


@pytest.fixture
def heard():
    """Register a writer for the test; return what it heard once changes committed.

    It asks for no rows; its on_commit records each change's contacts. The
    test's own transaction never commits: run the change inside
    django_capture_on_commit_callbacks(execute=True) to hear it.
    """
    calls: list[dict] = []

    def writer(*, action, channel):
        def committed(contact_ids):
            calls.append(
                {"contact_ids": contact_ids, "action": action, "channel": channel}
            )

        return extensions.ChangeRows(on_commit=committed)

    saved = dict(extensions._writers)
    extensions.register_subscription_writer(writer)
    yield calls
    extensions._writers.clear()
    extensions._writers.update(saved)


@pytest.fixture(autouse=True)
def _generous_rate_limit(settings):
    # The suite requests the public pages far more often than a person would;
    # the rate limit test sets its own small limit.
    settings.UNSUBSCRIBE_RATE_LIMIT = "10000/m"


@pytest.fixture
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


class _Inbox:
    """Collects what the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    """Run a real SMTP server on localhost and point Django's mail at it."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()
