"""Read-only views of the sync's tables in the Django admin."""

from django.contrib import admin

from salesforce_sync.models import OutboxEntry, SyncRun, SyncState


class ReadOnlyAdmin(admin.ModelAdmin):
    # The sync writes these rows; an edit by hand would break its bookkeeping.
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "contact_id", "reason", "status", "created_at", "error_code")
    list_filter = ("status", "reason")
    raw_id_fields = ("contact",)
    show_full_result_count = False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "finished_at",
        "trigger",
        "status",
        "pulled",
        "received",
        "pushed",
        "failed",
        "requests",
        "api_usage",
    )
    list_filter = ("status", "trigger")


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = ("connection", "connection_checked_at", "paused_until")
