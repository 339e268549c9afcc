from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contacts.models import Contact


class Channel(models.TextChoices):
    """The path a compliance change came through; the labels are what people read."""

    CARD = "card", _("Compliance card")
    BULK = "bulk", _("Bulk action")
    IMPORT = "import", _("Import")
    SALESFORCE_SYNC = "salesforce_sync", _("Salesforce sync")
    ADMIN = "admin", _("Django admin")
    MANUAL = "manual", _("Created by hand")
    RESUBSCRIBE = "resubscribe", pgettext_lazy("history", "Resubscribe")
    ERASURE = "erasure", _("Erasure")
    REVIEW = "review", _("Retention review")


class ComplianceChange(models.Model):
    """One changed compliance field of one contact: append-only evidence.

    Rows are only ever inserted. On PostgreSQL a trigger refuses UPDATE and
    DELETE (see migration 0002); the one exception is the erasure redaction,
    which unlinks and blanks the rows of an erased person.
    """

    # DO_NOTHING: a contact leaves only through erasure, whose redaction hook
    # unlinks these rows first (Django's cascade would try to UPDATE or DELETE
    # them, which the trigger refuses). A delete that skips erasure fails on
    # the foreign key instead of orphaning the evidence.
    contact = models.ForeignKey(
        Contact,
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="compliance_changes",
        verbose_name=_("contact"),
        # The composite index below starts with contact_id and serves lookups.
        db_index=False,
    )
    # Users who made changes are deactivated, not deleted: the admin refuses.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor"), max_length=150)
    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices)
    field = models.CharField(_("field"), max_length=64)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    changed_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("compliance change")
        verbose_name_plural = _("compliance history")
        indexes = [
            # Person Details pages through one contact's history, newest first.
            models.Index(
                fields=["contact", "-changed_at", "-id"],
                name="compliance_contact_newest",
            ),
        ]

    def __str__(self) -> str:
        return f"Compliance change {self.pk}"
