"""System checks: say plainly when the sync is off or half configured."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Info, Warning, register

from salesforce_sync.client import credentials_from_settings
from salesforce_sync.records import FIELD_NAME

_HINT = (
    "Set SALESFORCE_USERNAME, SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN, "
    "or SALESFORCE_CLIENT_ID with SALESFORCE_CLIENT_SECRET (client credentials) "
    "or with SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY_FILE (JWT); see "
    ".env.example."
)


@register("salesforce_sync")
def check_salesforce_settings(app_configs=None, **kwargs) -> list:
    """Report missing, incomplete or malformed Salesforce settings.

    No credentials at all is a deliberate choice (a team without Salesforce),
    so it is reported as Info, which `check --deploy --fail-level WARNING`
    lets through; half-set credentials are a mistake and a Warning.
    """
    messages: list = []
    if not FIELD_NAME.match(settings.SALESFORCE_OPT_OUT_FIELD):
        messages.append(
            Error(
                "SALESFORCE_OPT_OUT_FIELD is not a Salesforce field API name.",
                id="salesforce_sync.E001",
            )
        )
    credentials = credentials_from_settings()
    if credentials.is_partial:
        messages.append(
            Warning(
                "Salesforce credentials are incomplete: the sync is off.",
                hint=_HINT,
                id="salesforce_sync.W001",
            )
        )
    elif not credentials.is_configured:
        messages.append(
            Info(
                "Salesforce sync is off: no Salesforce credentials are set.",
                hint=_HINT,
                id="salesforce_sync.I001",
            )
        )
    elif credentials.flow == "jwt" and not Path(credentials.private_key_file).is_file():
        messages.append(
            Warning(
                "SALESFORCE_PRIVATE_KEY_FILE does not name a readable file.",
                id="salesforce_sync.W002",
            )
        )
    return messages
