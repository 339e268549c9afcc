from django.db import models
from django.utils.translation import gettext_lazy as _


class Summary(models.Model):
    """The Compliance overview's figures as of one moment, computed by a task.

    Counting a million contacts takes seconds, so the page never does it: a
    scheduled task (and the page's Refresh button) stores the figures here and
    the page reads the newest row. `figures` holds codes and counts only; the
    page turns them into labels in the reader's language.
    """

    computed_at = models.DateTimeField(_("computed at"), db_index=True)
    figures = models.JSONField(_("figures"))

    class Meta:
        verbose_name = _("overview summary")
        verbose_name_plural = _("overview summaries")
        # Nobody adds, changes or deletes a summary by hand: only the task does.
        default_permissions = ()
        permissions = [("view_overview", "Can view the compliance overview")]

    def __str__(self) -> str:
        return f"Overview summary {self.pk}"
