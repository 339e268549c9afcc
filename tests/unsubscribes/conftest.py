"""Fixtures of the unsubscribes tests."""

import pytest

from unsubscribes import extensions


@pytest.fixture
def heard():
    """Register a listener for the test and return the calls it heard."""
    calls: list[dict] = []

    def listener(**kwargs):
        calls.append(kwargs)

    saved = dict(extensions._listeners)
    extensions.register_subscription_listener(listener)
    yield calls
    extensions._listeners.clear()
    extensions._listeners.update(saved)


@pytest.fixture(autouse=True)
def _generous_rate_limit(settings):
    # The suite requests the public pages far more often than a person would;
    # the rate limit test sets its own small limit.
    settings.UNSUBSCRIBE_RATE_LIMIT = "10000/m"


@pytest.fixture
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT
