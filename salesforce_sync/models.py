from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contacts.models import Contact


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPERSEDED = "superseded", _("Superseded by Salesforce")


class OutboxReason(models.TextChoices):
    UNSUBSCRIBE = "unsubscribe", pgettext_lazy("history", "Unsubscribe")
    RESUBSCRIBE = "resubscribe", pgettext_lazy("history", "Resubscribe")
    PUSH_BACK = "push_back", _("Local opt-out pushed back")
    ERASURE = "erasure", _("Opt-out of an erased person")


class OutboxEntry(models.Model):
    """A subscription change waiting to reach Salesforce, or its outcome.

    Rows are written in the transaction of the change itself, so a change is
    never committed without its row. What is pushed is the contact's status at
    push time, not a copy taken here: the newest local word always wins, and
    several pending rows of one contact cost one record in Salesforce.
    """

    # Empty only on an erased person's row (reason ERASURE): the contact is
    # gone, and salesforce_id says which record to opt out, until it is sent.
    # Looked up through sf_outbox_contact, which starts with it: an index of
    # its own would cost every unsubscribe one more insert.
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="salesforce_outbox",
        verbose_name=_("contact"),
    )
    salesforce_id = models.CharField(_("Salesforce ID"), max_length=18, blank=True)
    reason = models.CharField(_("reason"), max_length=16, choices=OutboxReason.choices)
    channel = models.CharField(_("channel"), max_length=32, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=OutboxStatus.choices,
        default=OutboxStatus.PENDING,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    opted_out = models.BooleanField(_("opted out in Salesforce"), null=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox")
        indexes = [
            # The relay reads pending rows oldest first; the page counts them.
            models.Index(
                fields=["id"],
                condition=models.Q(status="pending"),
                name="sf_outbox_pending",
            ),
            models.Index(fields=["contact", "-id"], name="sf_outbox_contact"),
            models.Index(
                fields=["-processed_at"],
                condition=models.Q(status="failed"),
                name="sf_outbox_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"Outbox {self.pk} ({self.status})"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    MANUAL = "manual", _("Sync now")
    RELAY = "relay", _("Outbox relay")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    DEFERRED = "deferred", _("Deferred: API limit reached")


class SyncRun(models.Model):
    """One sync run: when, what it moved and what it cost in API calls."""

    trigger = models.CharField(_("trigger"), max_length=16, choices=RunTrigger.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RunStatus.choices,
        default=RunStatus.RUNNING,
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    pulled = models.PositiveIntegerField(_("records pulled"), default=0)
    received = models.PositiveIntegerField(_("opt-outs received"), default=0)
    pushed = models.PositiveIntegerField(_("pushed"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    requests = models.PositiveIntegerField(_("requests made"), default=0)
    api_usage = models.PositiveIntegerField(
        _("API calls used (org)"), null=True, blank=True
    )
    api_limit = models.PositiveIntegerField(_("API call limit"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-id"]
        permissions = [("run_sync", "Can start a Salesforce sync")]

    def __str__(self) -> str:
        return f"Sync run {self.pk} ({self.status})"


class ConnectionState(models.TextChoices):
    UNKNOWN = "unknown", _("Not connected yet")
    CONNECTED = "connected", _("Connected")
    RATE_LIMITED = "rate_limited", _("Waiting: Salesforce API limit reached")
    REFUSED = "refused", _("Refused by Salesforce")
    UNREACHABLE = "unreachable", _("Salesforce unreachable")


class SyncState(models.Model):
    """The sync's single row: pull watermarks and the connection's health."""

    contact_watermark = models.DateTimeField(null=True, blank=True)
    lead_watermark = models.DateTimeField(null=True, blank=True)
    connection = models.CharField(
        _("connection"),
        max_length=16,
        choices=ConnectionState.choices,
        default=ConnectionState.UNKNOWN,
    )
    connection_checked_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error"), max_length=500, blank=True)
    # Set after 403 REQUEST_LIMIT_EXCEEDED: no run talks to Salesforce before.
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync state")

    def __str__(self) -> str:
        return "Salesforce sync state"

    def watermark(self, sobject: str):
        return getattr(self, f"{sobject.lower()}_watermark")
