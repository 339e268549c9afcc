"""The vocabulary of the unsubscribe history; the labels are what people read."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Action(models.TextChoices):
    # Nouns in a history, where the same English word elsewhere is a button.
    UNSUBSCRIBE = "unsubscribe", pgettext_lazy("history", "Unsubscribe")
    RESUBSCRIBE = "resubscribe", pgettext_lazy("history", "Resubscribe")


class Channel(models.TextChoices):
    """The path an unsubscribe or resubscribe came through."""

    UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link")
    ONE_CLICK = "one_click", _("One-click")
    USER = "user", _("By a user")
    BULK = "bulk", _("Bulk action")
    SALESFORCE_SYNC = "salesforce_sync", _("Salesforce sync")
    BOUNCE_OR_COMPLAINT = "bounce_or_complaint", _("Bounce or complaint")
    ADMIN_RESUBSCRIBE = "admin_resubscribe", _("Admin resubscribe")


# Every channel but the Admin's resubscribe records an unsubscribe.
UNSUBSCRIBE_CHANNELS = frozenset(Channel.values) - {Channel.ADMIN_RESUBSCRIBE}
