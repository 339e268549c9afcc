from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact


class ExportKind(models.TextChoices):
    SINGLE = "single", _("Contact CSV")
    BULK = "bulk", _("Bulk CSV")
    ACCESS_BUNDLE = "access_bundle", _("Access bundle")


class ExportRecord(models.Model):
    """One export of contact data: who took what, how many rows, and when.

    Append-only accountability: rows are only inserted. On PostgreSQL a trigger
    refuses UPDATE and DELETE (migration 0002), except the erasure unlink that
    clears `contact`. It holds no personal data of the people exported: a bulk
    export keeps its filter with free-text values redacted, never a list of rows.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=ExportKind.choices)
    # PROTECT: a contact that was exported leaves only through erasure, whose
    # hook unlinks its records first; users who exported are deactivated.
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="export_records",
        verbose_name=_("contact"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("exported by"),
    )
    actor_name = models.CharField(_("exported by"), max_length=150)
    selection = models.JSONField(_("selection"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"))
    # False when the client went away before the end of a streamed export:
    # the rows sent until then may have reached it, so they are still counted.
    completed = models.BooleanField(_("completed"), default=True)
    exported_at = models.DateTimeField(_("exported at"))

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("export history")
        # Nobody may change or delete the log, so no role can hold those rights.
        default_permissions = ("view",)
        permissions = [
            ("export_contact", "Can export a contact as CSV"),
            ("export_contacts_bulk", "Can export contacts in bulk"),
            ("export_access_bundle", "Can export a data-subject access bundle"),
        ]
        indexes = [
            models.Index(fields=["-exported_at", "-id"], name="export_newest"),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk}"
