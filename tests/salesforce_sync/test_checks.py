"""The system check says when the sync is off, half set or misnamed."""

import pytest

from salesforce_sync.checks import check_salesforce_settings


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_no_credentials_is_reported_as_info(settings):
    settings.SALESFORCE_USERNAME = ""
    settings.SALESFORCE_CLIENT_ID = ""

    assert ids(check_salesforce_settings()) == ["salesforce_sync.I001"]


@pytest.mark.parametrize(
    "given",
    [
        {"SALESFORCE_USERNAME": "sync@example.com"},
        {"SALESFORCE_CLIENT_ID": "key"},
        {"SALESFORCE_SECURITY_TOKEN": "token"},
    ],
)
def test_half_set_credentials_are_a_warning(settings, given):
    for name, value in given.items():
        setattr(settings, name, value)

    assert ids(check_salesforce_settings()) == ["salesforce_sync.W001"]


def test_complete_credentials_pass(settings):
    settings.SALESFORCE_USERNAME = "sync@example.com"
    settings.SALESFORCE_PASSWORD = "secret"

    assert check_salesforce_settings() == []


def test_a_jwt_key_file_that_is_missing_is_a_warning(settings, tmp_path):
    settings.SALESFORCE_USERNAME = "sync@example.com"
    settings.SALESFORCE_CLIENT_ID = "key"
    settings.SALESFORCE_PRIVATE_KEY_FILE = str(tmp_path / "missing.key")

    assert ids(check_salesforce_settings()) == ["salesforce_sync.W002"]


def test_an_opt_out_field_that_is_not_an_api_name_is_an_error(settings):
    settings.SALESFORCE_OPT_OUT_FIELD = "HasOptedOutOfEmail) OR (Id"

    assert "salesforce_sync.E001" in ids(check_salesforce_settings())
