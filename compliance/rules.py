"""The rules that tie a contact's legal basis and source to their dependent fields.

This is the one place they live: the Compliance card, the bulk actions, the
import, the Django admin and the Salesforce sync all pass their values through
clean_compliance() (the services do it for them).
"""

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.choices import PermissionType, SourceType

PERMISSION_FIELDS = (
    "permission_type",
    "consent_date",
    "consent_expires_on",
    "processing_purpose",
    "permission_type_description",
)
SOURCE_FIELDS = ("source_type", "source_type_description")
COMPLIANCE_FIELDS = PERMISSION_FIELDS + SOURCE_FIELDS
# The fields whose values a person typed: erasure blanks them in the history.
FREE_TEXT_FIELDS = (
    "processing_purpose",
    "permission_type_description",
    "source_type_description",
)
DATE_FIELDS = ("consent_date", "consent_expires_on")

DEFAULTS: dict[str, Any] = {
    "permission_type": PermissionType.NOT_SET.value,
    "consent_date": None,
    "consent_expires_on": None,
    "processing_purpose": "",
    "permission_type_description": "",
    "source_type": SourceType.NOT_SET.value,
    "source_type_description": "",
}

# A purpose must say what the data is used for; ten characters is about the
# shortest sentence that can ("Newsletter" is the limit, not "Sales").
PURPOSE_MIN_LENGTH = 10
PURPOSE_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 2000
# Consent given before this date is a typing mistake, not evidence.
EARLIEST_CONSENT_DATE = datetime.date(1990, 1, 1)

REQUIRED = _("This field is required.")
UNKNOWN_CHOICE = _("Select one of the listed options.")
NOT_TEXT = _("Enter text.")
BAD_CHARACTERS = _("Remove the control characters from this text.")
NOT_A_DATE = _("Enter a valid date (YYYY-MM-DD).")
FUTURE_DATE = _("The Consent date cannot be in the future.")
TOO_EARLY = _("Enter a date after 1990.")
PURPOSE_TOO_SHORT = _("Describe the processing purpose in at least %(min)d characters.")
TOO_LONG = _("Keep this under %(max)d characters.")
EXPIRY_BEFORE_CONSENT = _("Consent cannot expire before it was given.")


def clean_compliance(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise a full set of compliance values.

    Missing fields take their defaults. Fields that do not apply to the chosen
    types are cleared (switching away from Consent clears the Consent date and
    Processing purpose). Raise ValidationError({field: [messages]}) otherwise.
    """
    unknown = set(values) - set(COMPLIANCE_FIELDS)
    if unknown:
        raise ValueError(f"Not compliance fields: {sorted(unknown)}")

    merged = {**DEFAULTS, **values}
    errors: dict[str, list] = {}
    cleaned: dict[str, Any] = {}

    def check(field: str, cleaner, *args) -> None:
        try:
            cleaned[field] = cleaner(merged[field], *args)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.messages)

    check("permission_type", _choice, PermissionType)
    check("source_type", _choice, SourceType)

    permission = cleaned.get("permission_type")
    if permission == PermissionType.CONSENT:
        check("consent_date", _consent_date)
        check("consent_expires_on", _optional_date)
        check("processing_purpose", _purpose)
        given, expires = cleaned.get("consent_date"), cleaned.get("consent_expires_on")
        if given and expires and expires < given:
            errors.setdefault("consent_expires_on", []).append(EXPIRY_BEFORE_CONSENT)
    else:
        cleaned.update(
            consent_date=None, consent_expires_on=None, processing_purpose=""
        )
    if permission == PermissionType.OTHER:
        check("permission_type_description", _description)
    else:
        cleaned["permission_type_description"] = ""

    if cleaned.get("source_type") == SourceType.OTHER:
        check("source_type_description", _description)
    else:
        cleaned["source_type_description"] = ""

    if errors:
        raise ValidationError(errors)
    return cleaned


def _choice(value: Any, choices: type[PermissionType] | type[SourceType]) -> str:
    if not isinstance(value, str) or value not in choices.values:
        raise ValidationError(UNKNOWN_CHOICE)
    return str(value)


def _date(value: Any) -> datetime.date | None:
    # A datetime is a date subclass; taking it would silently drop its time.
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        raise ValidationError(NOT_A_DATE)
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(NOT_A_DATE) from None
    raise ValidationError(NOT_A_DATE)


def _optional_date(value: Any) -> datetime.date | None:
    date = _date(value)
    if date is not None and date < EARLIEST_CONSENT_DATE:
        raise ValidationError(TOO_EARLY)
    return date


def _consent_date(value: Any) -> datetime.date:
    date = _optional_date(value)
    if date is None:
        raise ValidationError(REQUIRED)
    if date > timezone.localdate():
        raise ValidationError(FUTURE_DATE)
    return date


def _text(value: Any, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(NOT_TEXT)
    text = value.strip()
    # PostgreSQL refuses NUL in text and lone surrogates cannot be encoded:
    # both would fail at the database (a 500) instead of here.
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text) or not _encodable(text):
        raise ValidationError(BAD_CHARACTERS)
    if len(text) > max_length:
        raise ValidationError(TOO_LONG, params={"max": max_length})
    return text


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _purpose(value: Any) -> str:
    text = _text(value, PURPOSE_MAX_LENGTH)
    if not text:
        raise ValidationError(REQUIRED)
    if len(text) < PURPOSE_MIN_LENGTH:
        raise ValidationError(PURPOSE_TOO_SHORT, params={"min": PURPOSE_MIN_LENGTH})
    return text


def _description(value: Any) -> str:
    text = _text(value, DESCRIPTION_MAX_LENGTH)
    if not text:
        raise ValidationError(REQUIRED)
    return text


def current_values(contact: Any) -> dict[str, Any]:
    """Return a contact's compliance values as clean_compliance() takes them."""
    return {field: getattr(contact, field) for field in COMPLIANCE_FIELDS}


def as_text(value: Any) -> str:
    """Return a compliance value as the history stores it (ISO dates, raw codes)."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
