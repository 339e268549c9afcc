from django.contrib import admin

from exports.models import ExportRecord


@admin.register(ExportRecord)
class ExportRecordAdmin(admin.ModelAdmin):
    """The export history, read-only: nobody adds, edits or deletes a record."""

    list_display = ("exported_at", "kind", "actor_name", "contact_id", "row_count")
    list_filter = ("kind", "completed")
    readonly_fields = [field.name for field in ExportRecord._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
