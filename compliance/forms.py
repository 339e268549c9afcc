from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from compliance.rules import (
    DESCRIPTION_MAX_LENGTH,
    PURPOSE_MAX_LENGTH,
    clean_compliance,
    current_values,
)
from contacts.choices import PermissionType, SourceType
from contacts.models import Contact

CARD_FIELDS = (
    "permission_type",
    "consent_date",
    "consent_expires_on",
    "processing_purpose",
    "permission_type_description",
    "source_type",
    "source_type_description",
)


def _text_area(max_length: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": 3, "maxlength": max_length})


class ComplianceForm(forms.Form):
    """The Compliance card in edit mode.

    Dependent fields are plain, optional inputs here: clean_compliance() decides
    which of them apply, so a field hidden in the browser cannot block a save
    and the rules are never restated.
    """

    permission_type = forms.ChoiceField(
        label=_("Permission type"),
        choices=PermissionType.choices,
        widget=forms.Select(attrs={"data-compliance-type": ""}),
    )
    consent_date = forms.CharField(
        label=_("Consent date"),
        required=False,
        strip=True,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    consent_expires_on = forms.CharField(
        label=_("Consent expires on"),
        required=False,
        strip=True,
        help_text=_("Optional. After this date no email is sent to this person."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    processing_purpose = forms.CharField(
        label=_("Processing purpose"),
        required=False,
        widget=_text_area(PURPOSE_MAX_LENGTH),
    )
    permission_type_description = forms.CharField(
        label=_("Permission type description"),
        required=False,
        widget=_text_area(DESCRIPTION_MAX_LENGTH),
    )
    source_type = forms.ChoiceField(
        label=_("Source type"),
        choices=SourceType.choices,
        widget=forms.Select(attrs={"data-compliance-type": ""}),
    )
    source_type_description = forms.CharField(
        label=_("Source type description"),
        required=False,
        widget=_text_area(DESCRIPTION_MAX_LENGTH),
    )
    compliance_version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Person Details holds other forms; these ids must not collide.
        kwargs.setdefault("auto_id", "compliance_%s")
        super().__init__(*args, **kwargs)

    @classmethod
    def for_contact(cls, contact: Contact) -> "ComplianceForm":
        """Return an unbound form showing the contact's current values."""
        values = current_values(contact)
        initial = {field: values[field] for field in CARD_FIELDS}
        for field in ("consent_date", "consent_expires_on"):
            if initial[field]:
                initial[field] = initial[field].isoformat()
        initial["compliance_version"] = contact.compliance_version
        return cls(initial=initial)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors:
            try:
                clean_compliance({field: data[field] for field in CARD_FIELDS})
            except ValidationError as error:
                self.add_rule_errors(error)
        return data

    def changes(self) -> dict[str, Any]:
        """Return the card's values, for compliance_update() to merge."""
        return {field: self.cleaned_data[field] for field in CARD_FIELDS}

    def add_rule_errors(self, error: ValidationError) -> None:
        """Show each rule error next to its field, or above the form."""
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)
