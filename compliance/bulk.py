"""The People list's Permission and Source bulk actions.

Each is a modal with the Compliance card's fields and rules (clean_compliance),
a confirmation ("Set Permission type to Consent for 1,204 contacts?") and a
bulk job (contacts.bulk) whose batches go through compliance_bulk_update with
the channel "bulk": one UPDATE and one history INSERT per batch, and no
history for contacts that already hold the values.
"""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from compliance.models import Channel
from compliance.rules import PERMISSION_FIELDS, SOURCE_FIELDS, clean_compliance
from compliance.services import compliance_bulk_reconfirm, compliance_bulk_update
from contacts import extensions
from contacts.bulk import BulkActionView
from contacts.choices import PermissionType, SourceType

PERMISSION_KIND = "permission"
SOURCE_KIND = "source"
RECONFIRM_KIND = "reconfirm"


def _shown_when(field: str, value: str) -> dict[str, str]:
    """Widget attributes that show a field only when `field` holds `value`."""
    return {"data-show-when": f"{field}:{value}"}


class _ComplianceGroupForm(forms.Form):
    """A form over one group of compliance fields, checked by clean_compliance."""

    group: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            # A field that failed its own check would also fail the rules.
            return data
        values = {field: data.get(field) for field in self.group if field in data}
        try:
            cleaned = clean_compliance(values)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
            return data
        self.changes = {
            field: value.isoformat() if isinstance(value, datetime.date) else value
            for field, value in cleaned.items()
            if field in self.group
        }
        return data


class BulkPermissionForm(_ComplianceGroupForm):
    group = PERMISSION_FIELDS

    permission_type = forms.ChoiceField(
        label=_("Permission type"), choices=PermissionType.choices
    )
    consent_date = forms.DateField(
        label=_("Consent date"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", **_shown_when("permission_type", "consent")},
            format="%Y-%m-%d",
        ),
    )
    consent_expires_on = forms.DateField(
        label=_("Consent expires on"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", **_shown_when("permission_type", "consent")},
            format="%Y-%m-%d",
        ),
    )
    processing_purpose = forms.CharField(
        label=_("Processing purpose"),
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 3, **_shown_when("permission_type", "consent")}
        ),
    )
    permission_type_description = forms.CharField(
        label=_("Permission type description"),
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 3, **_shown_when("permission_type", "other")}
        ),
    )


class BulkSourceForm(_ComplianceGroupForm):
    group = SOURCE_FIELDS

    source_type = forms.ChoiceField(label=_("Source type"), choices=SourceType.choices)
    source_type_description = forms.CharField(
        label=_("Source type description"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, **_shown_when("source_type", "other")}),
    )


def _count(count: int) -> str:
    return number_format(count, force_grouping=True)


class BulkPermissionView(BulkActionView):
    kind = PERMISSION_KIND
    title = _("Permission")
    form_class = BulkPermissionForm
    permission_required = "contacts.change_contact"

    def change(self, form) -> dict:
        return form.changes

    def question(self, form, count: int) -> str:
        label = PermissionType(form.cleaned_data["permission_type"]).label
        return ngettext(
            "Set Permission type to %(label)s for %(count)s contact?",
            "Set Permission type to %(label)s for %(count)s contacts?",
            count,
        ) % {"label": label, "count": _count(count)}


class BulkSourceView(BulkActionView):
    kind = SOURCE_KIND
    title = _("Source")
    form_class = BulkSourceForm
    permission_required = "contacts.change_contact"

    def change(self, form) -> dict:
        return form.changes

    def question(self, form, count: int) -> str:
        label = SourceType(form.cleaned_data["source_type"]).label
        return ngettext(
            "Set Source type to %(label)s for %(count)s contact?",
            "Set Source type to %(label)s for %(count)s contacts?",
            count,
        ) % {"label": label, "count": _count(count)}


class BulkReconfirmView(BulkActionView):
    """Re-confirm: the legal basis was reviewed and still holds (storage limitation).

    Used with the People list's "Needs review" filter; "Delete" is the other
    way out of a review (an erasure).
    """

    kind = RECONFIRM_KIND
    title = _("Re-confirm")
    permission_required = "contacts.change_contact"
    confirm_label = _("Re-confirm")

    def question(self, form, count: int) -> str:
        return ngettext(
            "Re-confirm %(count)s contact? You record, under your name, that "
            "you reviewed their legal basis and it still holds; their retention "
            "review starts again today.",
            "Re-confirm %(count)s contacts? You record, under your name, that "
            "you reviewed their legal basis and it still holds; their retention "
            "review starts again today.",
            count,
        ) % {"count": _count(count)}


def apply_reconfirm(*, contacts: QuerySet, change: dict, actor) -> int:
    """Re-confirm one locked batch of a bulk job."""
    return compliance_bulk_reconfirm(
        contacts=contacts, actor=actor, actor_name="" if actor else "bulk job"
    )


def reconfirm_message(count: int) -> str:
    return ngettext(
        "Re-confirmed %(count)s contact.", "Re-confirmed %(count)s contacts.", count
    ) % {"count": _count(count)}


def apply_compliance_change(*, contacts: QuerySet, change: dict, actor) -> int:
    """Write one locked batch of a bulk Permission or Source change."""
    return compliance_bulk_update(
        contacts=contacts,
        changes=change,
        channel=Channel.BULK,
        actor=actor,
        actor_name="" if actor else "bulk job",
    )


def permission_message(count: int) -> str:
    return ngettext(
        "Permission updated for %(count)s contact.",
        "Permission updated for %(count)s contacts.",
        count,
    ) % {"count": _count(count)}


def source_message(count: int) -> str:
    return ngettext(
        "Source updated for %(count)s contact.",
        "Source updated for %(count)s contacts.",
        count,
    ) % {"count": _count(count)}


def register() -> None:
    """Add Permission and Source to the People list's "⋮" menu."""
    for key, label, order, message in (
        (PERMISSION_KIND, _("Permission"), 10, permission_message),
        (SOURCE_KIND, _("Source"), 20, source_message),
        (RECONFIRM_KIND, _("Re-confirm"), 25, reconfirm_message),
    ):
        extensions.register_bulk_action(
            extensions.BulkAction(
                key=key,
                label=label,
                url_name=f"compliance_bulk:{key}",
                order=order,
                permission="contacts.change_contact",
            )
        )
        extensions.register_bulk_job_kind(
            extensions.BulkJobKind(
                key=key,
                apply=(
                    apply_reconfirm
                    if key == RECONFIRM_KIND
                    else apply_compliance_change
                ),
                message=message,
            )
        )
