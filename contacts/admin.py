from django.contrib import admin

from contacts.models import Contact


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
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
