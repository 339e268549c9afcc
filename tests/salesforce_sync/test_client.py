"""The client logs in against SALESFORCE_LOGIN_URL with each supported flow."""

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from salesforce_sync.client import (
    Credentials,
    PermanentError,
    SalesforceClient,
    credentials_from_settings,
)


def limits(client: SalesforceClient) -> dict:
    return client.call(lambda sf: sf.limits())


def test_username_password_and_security_token_log_in_over_soap(salesforce):
    client = SalesforceClient()

    assert limits(client)["DailyApiRequests"]["Max"] == 15000
    assert salesforce.requests[0].path == "/services/Soap/u/59.0"
    assert client.requests_made == 2


def test_oauth_username_password_flow(salesforce, settings):
    settings.SALESFORCE_CLIENT_ID = salesforce.api.client_id
    settings.SALESFORCE_CLIENT_SECRET = salesforce.api.client_secret

    limits(SalesforceClient())

    assert salesforce.requests[0].path == "/services/oauth2/token"


def test_oauth_client_credentials_flow(salesforce, settings):
    settings.SALESFORCE_USERNAME = ""
    settings.SALESFORCE_PASSWORD = ""
    settings.SALESFORCE_CLIENT_ID = salesforce.api.client_id
    settings.SALESFORCE_CLIENT_SECRET = salesforce.api.client_secret

    assert credentials_from_settings().flow == "client_credentials"
    limits(SalesforceClient())
    assert salesforce.counts == {"login": 1, "limits": 1}


def _write_key(path, key) -> str:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def _public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


@pytest.fixture
def jwt_settings(salesforce, settings, tmp_path):
    """Sign in with a connected app's key (JWT bearer); return the key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.SALESFORCE_PASSWORD = ""
    settings.SALESFORCE_SECURITY_TOKEN = ""
    settings.SALESFORCE_CLIENT_ID = salesforce.api.client_id
    settings.SALESFORCE_PRIVATE_KEY_FILE = _write_key(tmp_path / "server.key", key)
    return key


def test_a_jwt_login_signs_for_the_connected_app_and_gets_a_session(
    salesforce, jwt_settings
):
    salesforce.api.jwt_public_key = _public_pem(jwt_settings)

    assert credentials_from_settings().flow == "jwt"
    assert limits(SalesforceClient())["DailyApiRequests"]["Max"] == 15000
    assert salesforce.counts == {"login": 1, "limits": 1}
    assert salesforce.requests[0].path == "/services/oauth2/token"


def test_a_jwt_login_with_a_key_the_org_does_not_know_is_refused_for_good(
    salesforce, jwt_settings
):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    salesforce.api.jwt_public_key = _public_pem(other_key)

    with pytest.raises(PermanentError) as error:
        limits(SalesforceClient())

    assert error.value.code == "LOGIN_FAILED"
    assert salesforce.counts == {"login": 1}


def test_wrong_credentials_are_a_permanent_error(salesforce, settings):
    settings.SALESFORCE_PASSWORD = "wrong"

    with pytest.raises(PermanentError) as error:
        limits(SalesforceClient())

    assert (error.value.code, error.value.message) == ("LOGIN_FAILED", "INVALID_LOGIN")


def test_the_ca_bundle_setting_beats_requests_ca_bundle(salesforce, monkeypatch):
    # The system bundle does not know the stand-in's CA: if the environment
    # won, the handshake would fail.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", requests.certs.where())

    assert limits(SalesforceClient())["DailyApiRequests"]["Max"] == 15000


def test_no_credentials_means_no_login_flow():
    credentials = Credentials(
        login_url="https://login.salesforce.com", api_version="62.0"
    )

    assert credentials.flow is None
    assert not credentials.is_partial
    assert Credentials(login_url="x", api_version="62.0", username="someone").is_partial


def test_an_answer_without_a_body_is_a_permanent_error(salesforce):
    client = SalesforceClient()
    limits(client)
    salesforce.faults.add("error", status=204, path_contains="composite/sobjects")
    record = {"attributes": {"type": "Contact"}, "id": "003000000000001AAA"}

    with pytest.raises(PermanentError, match="NO_CONTENT"):
        client.update_collection([{**record, "HasOptedOutOfEmail": True}])
