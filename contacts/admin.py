from django.contrib import admin
from django.db import models
from django.utils.translation import gettext as _
from import_export.admin import ImportMixin

from contacts.erasure import ErasureChannel, contacts_erase
from contacts.forms import AdminImportForm
from contacts.importing import ContactResource
from contacts.models import Contact


@admin.register(Contact)
class ContactAdmin(ImportMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "first_name",
        "last_name",
        "company",
        "email",
        "permission_type",
        "source_type",
        "is_unsubscribed",
        "updated_at",
    )
    list_filter = ("permission_type", "source_type", "is_unsubscribed")
    search_fields = ("email", "last_name", "company")
    # A million rows: the admin must not count them on every page.
    show_full_result_count = False
    readonly_fields = ("created_at", "updated_at", "compliance_version")
    # Django 6 assumes https for scheme-less URLs; say so now, as the app's
    # own form does (contacts.forms).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    resource_classes = [ContactResource]
    import_form_class = AdminImportForm

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("contacts.import_contacts")

    def add_data_read_fail_error_to_form(self, form, e) -> None:
        # django-import-export names the exception's class; say it plainly.
        form.add_error("import_file", _("This file cannot be read as CSV or XLSX."))

    # Deleting a person is an erasure wherever it starts: the same hooks,
    # suppression hash and accountability record as the People list's Delete.
    def delete_model(self, request, obj):
        contacts_erase(
            contact_ids=[obj.pk], channel=ErasureChannel.ADMIN, actor=request.user
        )

    def delete_queryset(self, request, queryset):
        contacts_erase(
            contact_ids=list(queryset.values_list("id", flat=True)),
            channel=ErasureChannel.ADMIN,
            actor=request.user,
        )
