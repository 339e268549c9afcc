from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact
from unsubscribes.choices import Action, Channel
from unsubscribes.storage import evidence_path, private_storage

EVIDENCE_EXTENSIONS = ("pdf", "png", "jpg", "jpeg", "eml", "msg", "txt")


class SubscriptionChange(models.Model):
    """One unsubscribe or resubscribe of one contact: append-only evidence.

    Rows are only ever inserted. On PostgreSQL a trigger refuses UPDATE and
    DELETE (see migration 0002); the one exception is the erasure redaction,
    which unlinks an erased person's rows and blanks what they could identify.
    A resubscribe carries the proof of new consent the Admin gave.
    """

    # DO_NOTHING: a contact leaves only through erasure, whose redaction hook
    # unlinks these rows first (Django's cascade would try to UPDATE or DELETE
    # them, which the trigger refuses). A delete that skips erasure fails on
    # the foreign key instead of orphaning the evidence.
    contact = models.ForeignKey(
        Contact,
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="subscription_changes",
        verbose_name=_("contact"),
        # The composite index below starts with contact_id and serves lookups.
        db_index=False,
    )
    changed_at = models.DateTimeField(_("time"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices)
    # PROTECT for the same reason: deactivate users who made changes.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor"), max_length=150)

    consent_date = models.DateField(_("Consent date"), null=True, blank=True)
    processing_purpose = models.TextField(_("Processing purpose"), blank=True)
    consent_obtained = models.TextField(_("How consent was obtained"), blank=True)
    evidence_note = models.TextField(_("Evidence note"), blank=True)
    evidence_file = models.FileField(
        _("Evidence file"),
        storage=private_storage,
        upload_to=evidence_path,
        max_length=200,
        blank=True,
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS)],
    )

    class Meta:
        verbose_name = _("subscription change")
        verbose_name_plural = _("unsubscribe history")
        # Append-only: no add, change or delete permission exists to grant.
        default_permissions = ("view",)
        permissions = [
            ("unsubscribe_contact", "Can unsubscribe contacts"),
            ("resubscribe_contact", "Can resubscribe contacts with proof of consent"),
            ("download_evidence", "Can download proof-of-consent files"),
        ]
        indexes = [
            # Person Details lists one contact's history, newest first, and the
            # resubscribe check reads the contact's latest unsubscribe.
            models.Index(
                fields=["contact", "-changed_at", "-id"],
                name="unsub_contact_newest",
            ),
        ]

    def __str__(self) -> str:
        return f"Subscription change {self.pk}"


class SentEmail(models.Model):
    """One email the app sent to one contact (never its body)."""

    # DO_NOTHING: erasure's hook deletes these first; a cascade would make the
    # admin's delete confirmation ask for a delete permission nobody holds.
    contact = models.ForeignKey(
        Contact,
        on_delete=models.DO_NOTHING,
        related_name="sent_emails",
        verbose_name=_("recipient"),
        db_index=False,
    )
    subject = models.CharField(_("subject"), max_length=200)
    sent_at = models.DateTimeField(_("time"))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sender"),
    )
    sender_name = models.CharField(_("sender"), max_length=150)

    class Meta:
        verbose_name = _("sent email")
        verbose_name_plural = _("sent emails")
        default_permissions = ("view",)
        permissions = [("send_email", "Can send email to contacts")]
        indexes = [
            models.Index(
                fields=["contact", "-sent_at", "-id"], name="sentemail_contact_newest"
            ),
        ]

    def __str__(self) -> str:
        return f"Sent email {self.pk}"
