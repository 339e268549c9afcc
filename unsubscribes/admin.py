"""The unsubscribe history (read-only) and the Resubscribe path in the admin."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact
from unsubscribes.models import SentEmail, SubscriptionChange

RESUBSCRIBE_PERMISSION = "unsubscribes.resubscribe_contact"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show rows, never add, change or delete them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SubscriptionChange)
class SubscriptionChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "contact_id", "action", "channel", "actor_name")
    list_filter = ("action", "channel")
    date_hierarchy = "changed_at"
    show_full_result_count = False
    # The file field's own widget would ask the private storage for a URL it
    # does not have; the evidence is offered through the checked view instead.
    fields = (
        "contact",
        "changed_at",
        "action",
        "channel",
        "actor",
        "actor_name",
        "consent_date",
        "processing_purpose",
        "consent_obtained",
        "evidence_note",
        "evidence",
    )
    readonly_fields = fields

    @admin.display(description=_("Evidence file"))
    def evidence(self, change: SubscriptionChange) -> str:
        if not change.evidence_file:
            return ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("unsubscribes:evidence_download", args=[change.pk]),
            _("Download"),
        )


@admin.register(SentEmail)
class SentEmailAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "contact_id", "subject", "sender_name")
    date_hierarchy = "sent_at"
    show_full_result_count = False


# Extend whichever Contact admin is registered (contacts' own, or one an app
# below this one already extended) instead of replacing it.
_RegisteredContactAdmin = type(admin.site.get_model_admin(Contact))


class ContactAdmin(_RegisteredContactAdmin):  # type: ignore[misc,valid-type]
    """The contact admin, plus Resubscribe; the status changes only by service."""

    actions = [*(_RegisteredContactAdmin.actions or []), "resubscribe"]
    readonly_fields = (
        *_RegisteredContactAdmin.readonly_fields,
        "is_unsubscribed",
        "subscription_changed_at",
    )
    change_form_template = "admin/unsubscribes/contact_change_form.html"

    def has_resubscribe_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESUBSCRIBE_PERMISSION)

    @admin.action(
        description=_("Resubscribe (with proof of consent)"),
        permissions=["resubscribe"],
    )
    def resubscribe(
        self, request: HttpRequest, queryset: QuerySet[Contact]
    ) -> HttpResponseRedirect | None:
        # Consent is given by one person at a time, so is its proof.
        contact_ids = list(queryset.values_list("pk", flat=True)[:2])
        if len(contact_ids) != 1:
            self.message_user(
                request,
                _("Select exactly one contact: consent is proven person by person."),
                messages.ERROR,
            )
            return None
        return redirect("unsubscribes:resubscribe", contact_ids[0])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_resubscribe": self.has_resubscribe_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)


admin.site.unregister(Contact)
admin.site.register(Contact, ContactAdmin)
