"""The rules tying Permission type and Source type to their dependent fields."""

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from compliance.rules import (
    COMPLIANCE_FIELDS,
    DESCRIPTION_MAX_LENGTH,
    FUTURE_DATE,
    PURPOSE_MAX_LENGTH,
    PURPOSE_MIN_LENGTH,
    REQUIRED,
    clean_compliance,
)
from contacts.choices import PermissionType, SourceType

TODAY = timezone.localdate()
PURPOSE = "Quarterly newsletter about our logistics software."
PERMISSION_DEPENDENTS = {
    PermissionType.CONSENT: {"consent_date": TODAY, "processing_purpose": PURPOSE},
    PermissionType.OTHER: {"permission_type_description": "Existing customer."},
}
SOURCE_DEPENDENTS = {SourceType.OTHER: {"source_type_description": "Trade fair."}}
COMBINATIONS = list(itertools.product(PermissionType, SourceType))
EVERY_DEPENDENT = {
    "consent_date": TODAY,
    "consent_expires_on": TODAY + datetime.timedelta(days=365),
    "processing_purpose": PURPOSE,
    "permission_type_description": "Existing customer.",
    "source_type_description": "Trade fair.",
}


def error_fields(values) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        clean_compliance(values)
    return set(caught.value.message_dict)


@pytest.mark.parametrize(("permission", "source"), COMBINATIONS)
def test_every_combination_is_valid_with_its_dependent_fields(permission, source):
    values = {
        "permission_type": permission,
        "source_type": source,
        **PERMISSION_DEPENDENTS.get(permission, {}),
        **SOURCE_DEPENDENTS.get(source, {}),
    }

    cleaned = clean_compliance(values)

    assert cleaned["permission_type"] == permission
    assert cleaned["source_type"] == source
    assert set(cleaned) == set(COMPLIANCE_FIELDS)


@pytest.mark.parametrize(("permission", "source"), COMBINATIONS)
def test_every_combination_without_its_dependent_fields_names_exactly_them(
    permission, source
):
    values = {"permission_type": permission, "source_type": source}
    expected = set(PERMISSION_DEPENDENTS.get(permission, {})) | set(
        SOURCE_DEPENDENTS.get(source, {})
    )

    if expected:
        assert error_fields(values) == expected
    else:
        assert clean_compliance(values)["permission_type"] == permission


@pytest.mark.parametrize(("permission", "source"), COMBINATIONS)
def test_fields_that_do_not_apply_are_cleared(permission, source):
    values = {"permission_type": permission, "source_type": source, **EVERY_DEPENDENT}

    cleaned = clean_compliance(values)

    consent = permission == PermissionType.CONSENT
    assert (cleaned["consent_date"] is not None) is consent
    assert (cleaned["consent_expires_on"] is not None) is consent
    assert bool(cleaned["processing_purpose"]) is consent
    assert bool(cleaned["permission_type_description"]) is (
        permission == PermissionType.OTHER
    )
    assert bool(cleaned["source_type_description"]) is (source == SourceType.OTHER)


def test_missing_fields_take_their_defaults():
    assert clean_compliance({}) == {
        "permission_type": "not_set",
        "consent_date": None,
        "consent_expires_on": None,
        "processing_purpose": "",
        "permission_type_description": "",
        "source_type": "not_set",
        "source_type_description": "",
    }


def test_consent_requires_a_date():
    with pytest.raises(ValidationError) as caught:
        clean_compliance({"permission_type": "consent", "processing_purpose": PURPOSE})

    assert caught.value.message_dict == {"consent_date": [str(REQUIRED)]}


def test_the_consent_date_cannot_be_in_the_future():
    tomorrow = TODAY + datetime.timedelta(days=1)

    with pytest.raises(ValidationError) as caught:
        clean_compliance(
            {
                "permission_type": "consent",
                "consent_date": tomorrow,
                "processing_purpose": PURPOSE,
            }
        )

    assert caught.value.message_dict == {"consent_date": [str(FUTURE_DATE)]}


def test_today_is_a_valid_consent_date_and_iso_strings_are_read():
    cleaned = clean_compliance(
        {
            "permission_type": "consent",
            "consent_date": TODAY.isoformat(),
            "processing_purpose": f"  {PURPOSE}  ",
        }
    )

    assert cleaned["consent_date"] == TODAY
    assert cleaned["processing_purpose"] == PURPOSE


@pytest.mark.parametrize(
    ("length", "valid"),
    [
        (PURPOSE_MIN_LENGTH - 1, False),
        (PURPOSE_MIN_LENGTH, True),
        (PURPOSE_MAX_LENGTH, True),
        (PURPOSE_MAX_LENGTH + 1, False),
    ],
)
def test_the_processing_purpose_has_a_meaningful_bounded_length(length, valid):
    values = {
        "permission_type": "consent",
        "consent_date": TODAY,
        "processing_purpose": "p" * length,
    }

    if valid:
        assert clean_compliance(values)["processing_purpose"] == "p" * length
    else:
        assert error_fields(values) == {"processing_purpose"}


@pytest.mark.parametrize(
    "field", ["permission_type_description", "source_type_description"]
)
def test_descriptions_are_bounded(field):
    values = {"permission_type": "other", "source_type": "other", **EVERY_DEPENDENT}
    values[field] = "d" * (DESCRIPTION_MAX_LENGTH + 1)

    assert error_fields(values) == {field}


def test_consent_cannot_expire_before_it_was_given():
    values = {
        "permission_type": "consent",
        "consent_date": TODAY,
        "consent_expires_on": TODAY - datetime.timedelta(days=1),
        "processing_purpose": PURPOSE,
    }

    assert error_fields(values) == {"consent_expires_on"}


def test_an_unknown_field_is_a_programming_error():
    with pytest.raises(ValueError, match="email"):
        clean_compliance({"email": "someone@example.com"})


def _valid_date(text: str) -> bool:
    try:
        date = datetime.date.fromisoformat(text.strip())
    except ValueError:
        return False
    return datetime.date(1990, 1, 1) <= date <= TODAY


BAD_DATES = st.one_of(
    st.dates(min_value=TODAY + datetime.timedelta(days=1)),
    st.dates(max_value=datetime.date(1989, 12, 31)),
    st.datetimes(),
    st.text(max_size=30).filter(lambda s: s.strip() != "" and not _valid_date(s)),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
BAD_TEXT = st.one_of(
    st.text(alphabet=" \t\n", max_size=5),
    st.text(min_size=PURPOSE_MAX_LENGTH + 1, max_size=PURPOSE_MAX_LENGTH + 50),
    st.text(min_size=1, max_size=20).map(lambda s: f"Valid purpose{s}\x00"),
    st.integers(),
    st.none(),
    st.binary(max_size=20),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)
BAD_CHOICES = st.one_of(
    st.text(max_size=40).filter(lambda s: s not in PermissionType.values),
    st.integers(),
    st.none(),
    st.booleans(),
)


@given(date=BAD_DATES)
def test_bad_consent_dates_are_a_field_error(date):
    values = {"permission_type": "consent", "consent_date": date}
    values["processing_purpose"] = PURPOSE

    assert error_fields(values) == {"consent_date"}


@given(purpose=BAD_TEXT)
def test_bad_processing_purposes_are_a_field_error(purpose):
    values = {"permission_type": "consent", "consent_date": TODAY}
    values["processing_purpose"] = purpose

    assert error_fields(values) == {"processing_purpose"}


@given(description=BAD_TEXT)
def test_bad_descriptions_are_a_field_error(description):
    values = {"permission_type": "other", "permission_type_description": description}

    assert error_fields(values) == {"permission_type_description"}


@given(permission=BAD_CHOICES, source=BAD_CHOICES)
def test_unknown_choices_are_a_field_error(permission, source):
    fields = error_fields({"permission_type": permission, "source_type": source})

    assert "permission_type" in fields
    assert "source_type" in fields or source in SourceType.values
