"""The compliance history, read-only, and compliance edits in the contact admin."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from compliance.models import Channel, ComplianceChange
from compliance.rules import COMPLIANCE_FIELDS, DEFAULTS, clean_compliance
from compliance.services import compliance_update
from contacts.models import Contact


class _ReadOnly:
    """Nobody, superusers included, adds, changes or deletes history rows."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ComplianceChange)
class ComplianceChangeAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = (
        "changed_at",
        "contact_id",
        "actor_name",
        "channel",
        "field",
        "old_value",
        "new_value",
    )
    list_filter = ("channel", "field")
    search_fields = ("=contact__id", "actor_name")
    date_hierarchy = "changed_at"
    ordering = ("-changed_at", "-id")
    show_full_result_count = False
    list_select_related = False


class ComplianceChangeInline(_ReadOnly, admin.TabularInline):
    model = ComplianceChange
    fk_name = "contact"
    fields = ("changed_at", "actor_name", "channel", "field", "old_value", "new_value")
    readonly_fields = fields
    ordering = ("-changed_at", "-id")
    extra = 0
    verbose_name_plural = _("Compliance history")


class ContactComplianceForm(forms.ModelForm):
    """Check the compliance fields with the same rules as every other path."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        values = {field: data.get(field) for field in COMPLIANCE_FIELDS}
        try:
            clean_compliance(values)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field, messages)
        return data


# Extend whichever Contact admin is registered (contacts' own, or one that an
# app below this one already extended) instead of replacing it.
_RegisteredContactAdmin = type(admin.site.get_model_admin(Contact))


class ContactAdmin(_RegisteredContactAdmin):  # type: ignore[misc,valid-type]
    """The contact admin; compliance changes go through compliance_update()."""

    form = ContactComplianceForm
    inlines = [*_RegisteredContactAdmin.inlines, ComplianceChangeInline]

    def save_model(self, request, obj, form, change) -> None:
        changes = {field: form.cleaned_data[field] for field in COMPLIANCE_FIELDS}
        # The contact's own fields are saved here; its compliance fields only
        # by the service, which writes their history in this same transaction
        # (the admin wraps the whole save in one).
        if change:
            own = [f for f in form.changed_data if f not in COMPLIANCE_FIELDS]
            if own:
                obj.save(update_fields=[*own, "updated_at"])
        else:
            for field, value in DEFAULTS.items():
                setattr(obj, field, value)
            obj.save()
        updated = compliance_update(
            contact_id=obj.pk,
            changes=changes,
            channel=Channel.ADMIN,
            actor=request.user,
        )
        for field in (*COMPLIANCE_FIELDS, "compliance_version"):
            setattr(obj, field, getattr(updated, field))


admin.site.unregister(Contact)
admin.site.register(Contact, ContactAdmin)
