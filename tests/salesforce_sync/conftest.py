"""A Salesforce stand-in over HTTPS, and settings that point the sync at it."""

from collections.abc import Iterator

import pytest

from tests.salesforce_standin import SalesforceStandin


@pytest.fixture
def standin() -> Iterator[SalesforceStandin]:
    with SalesforceStandin() as server:
        yield server


@pytest.fixture
def salesforce(standin, settings) -> SalesforceStandin:
    """The stand-in, with the sync's settings pointing at it (SOAP login)."""
    settings.SALESFORCE_LOGIN_URL = standin.instance_url
    settings.SALESFORCE_API_VERSION = "59.0"
    settings.SALESFORCE_USERNAME = standin.api.username
    settings.SALESFORCE_PASSWORD = standin.api.password
    settings.SALESFORCE_SECURITY_TOKEN = standin.api.security_token
    settings.SALESFORCE_CA_BUNDLE = standin.ca_path
    settings.SALESFORCE_TIMEOUT_SECONDS = 2.0
    settings.SALESFORCE_RETRY_BASE_SECONDS = 0.05
    settings.SALESFORCE_RETRY_ATTEMPTS = 3
    return standin
