"""Unsubscribe, the entry unsubscribes adds to the People list's "⋮" menu."""

from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts import extensions
from contacts.bulk import BulkActionView
from unsubscribes.choices import Channel
from unsubscribes.services import contacts_bulk_unsubscribe

KIND = "unsubscribe"
PERMISSION = "unsubscribes.unsubscribe_contact"


def _count(count: int) -> str:
    return number_format(count, force_grouping=True)


class BulkUnsubscribeView(BulkActionView):
    kind = KIND
    title = _("Unsubscribe")
    permission_required = PERMISSION
    confirm_label = _("Unsubscribe")
    danger = True

    def question(self, form, count: int) -> str:
        return ngettext(
            "Unsubscribe %(count)s contact? No email will be sent to them.",
            "Unsubscribe %(count)s contacts? No email will be sent to them.",
            count,
        ) % {"count": _count(count)}


def apply_unsubscribe(*, contacts: QuerySet, change: dict, actor) -> int:
    """Unsubscribe one locked batch of a bulk job."""
    return contacts_bulk_unsubscribe(
        contacts=contacts,
        channel=Channel.BULK,
        actor=actor,
        actor_name="" if actor else "bulk job",
    )


def unsubscribe_message(count: int) -> str:
    return ngettext(
        "%(count)s contact unsubscribed.", "%(count)s contacts unsubscribed.", count
    ) % {"count": _count(count)}


def register() -> None:
    """Add Unsubscribe to the People list's "⋮" menu."""
    extensions.register_bulk_action(
        extensions.BulkAction(
            key=KIND,
            label=_("Unsubscribe"),
            url_name="unsubscribes:bulk_unsubscribe",
            order=30,
            permission=PERMISSION,
        )
    )
    extensions.register_bulk_job_kind(
        extensions.BulkJobKind(
            key=KIND, apply=apply_unsubscribe, message=unsubscribe_message
        )
    )
