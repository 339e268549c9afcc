from django.conf import settings
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.choices import PermissionType, SourceType

salesforce_id_validator = RegexValidator(
    r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$",
    _("A Salesforce ID has 15 or 18 letters and digits."),
)


class Contact(models.Model):
    """A person the sales team may reach out to, with their legal basis.

    The compliance and subscription columns live on this table, not beside it,
    so that the People list filters and sorts a million rows with one index
    scan. Only the compliance and unsubscribes services write those columns;
    each write goes with a history row in the same transaction.
    """

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    email = models.EmailField(_("email"), max_length=254)
    phone_number = models.CharField(_("phone number"), max_length=40, blank=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    other = models.CharField(_("other"), max_length=500, blank=True)
    facebook = models.URLField(_("Facebook"), max_length=500, blank=True)
    twitter = models.CharField(_("Twitter"), max_length=200, blank=True)
    linkedin = models.URLField(_("LinkedIn"), max_length=500, blank=True)
    salesforce_id = models.CharField(
        _("Salesforce ID"),
        max_length=18,
        blank=True,
        null=True,
        unique=True,
        validators=[MinLengthValidator(15), salesforce_id_validator],
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    permission_type = models.CharField(
        _("Permission type"),
        max_length=32,
        choices=PermissionType.choices,
        default=PermissionType.NOT_SET,
    )
    consent_date = models.DateField(_("Consent date"), null=True, blank=True)
    consent_expires_on = models.DateField(
        _("Consent expires on"), null=True, blank=True
    )
    processing_purpose = models.TextField(_("Processing purpose"), blank=True)
    permission_type_description = models.TextField(
        _("Permission type description"), blank=True
    )
    source_type = models.CharField(
        _("Source type"),
        max_length=32,
        choices=SourceType.choices,
        default=SourceType.NOT_SET,
    )
    source_type_description = models.TextField(_("Source type description"), blank=True)
    # Bumped by every compliance write; a form carries the version it was
    # rendered with, so a stale save is detected instead of overwriting.
    compliance_version = models.PositiveIntegerField(default=0)

    is_unsubscribed = models.BooleanField(_("unsubscribed"), default=False)
    subscription_changed_at = models.DateTimeField(
        _("subscription changed at"), null=True, blank=True
    )
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        permissions = [("import_contacts", "Can import contacts from a file")]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="contact_email_ci_unique"),
        ]
        # One index per People list sort, each ending in the id, so that a keyset
        # page is a single range scan at any depth; the filter indexes lead with
        # the filtered column and go on with the default sort (name), so that a
        # filtered first page needs no sort either. The trigram indexes for the
        # free-text search are PostgreSQL-only and live in migration 0002.
        indexes = [
            models.Index(
                fields=["last_name", "first_name", "id"], name="contact_name_idx"
            ),
            models.Index(fields=["company", "id"], name="contact_company_idx"),
            models.Index(fields=["created_at", "id"], name="contact_created_idx"),
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
            models.Index(
                fields=["permission_type", "last_name", "first_name", "id"],
                name="contact_permission_name_idx",
            ),
            models.Index(
                fields=["source_type", "last_name", "first_name", "id"],
                name="contact_source_name_idx",
            ),
            models.Index(
                fields=["consent_date", "id"], name="contact_consent_date_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Person {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("contacts:person_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Suppression(models.Model):
    """An erased person, kept only as a keyed hash of their normalised email.

    The hash (HMAC-SHA256 under a key derived from SECRET_KEY, see
    contacts.suppression) lets an import, a sync or a form recognise the person
    and refuse them, without the table holding the email itself.
    """

    email_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")

    def __str__(self) -> str:
        return f"Suppression {self.pk}"


class Erasure(models.Model):
    """Record that contacts were erased: how many, by whom, when and how.

    The accountability log of erasure holds no personal data: not the ids'
    owners, not their emails; only the count and the circumstances.
    """

    count = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150)
    channel = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self) -> str:
        return f"Erasure {self.pk}"


class BulkJob(models.Model):
    """A change applied to many contacts in batches, with its progress.

    Small selections run inside the request, large ones in a Celery task; both
    go through the same job so the outcome and its accounting are the same.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # The states of a job that has not ended: the sweep looks for stalled ones.
    UNFINISHED = (State.PENDING, State.RUNNING)

    kind = models.CharField(max_length=40)
    # The selection and the change, JSON. The selection can hold search text
    # (personal data), so it is dropped once the job has finished.
    params = models.JSONField(default=dict)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    # Batches walk the selection in id order; a retried task resumes here.
    last_id = models.BigIntegerField(default=0)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING
    )
    # A message written for the user, never exception text.
    error = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bulk job")
        verbose_name_plural = _("bulk jobs")
        indexes = [
            models.Index(fields=["actor", "state"], name="bulkjob_actor_state_idx")
        ]

    def __str__(self) -> str:
        return f"Bulk job {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state not in self.UNFINISHED

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0


def column_name(model: type[models.Model], field_name: str) -> str:
    """Return the database column of one of a model's own concrete fields."""
    column = getattr(model._meta.get_field(field_name), "column", None)
    if not isinstance(column, str):
        raise ValueError(f"{model.__name__}.{field_name} has no column of its own")
    return column
