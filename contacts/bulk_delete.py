"""Delete, the "⋮" entry that contacts itself adds: erasure, in bulk."""

from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts.bulk import BulkActionView
from contacts.erasure import ErasureChannel, contacts_erase

KIND = "delete"


def apply_delete(*, contacts: QuerySet, change: dict, actor) -> int:
    """Erase one locked batch of contacts."""
    return contacts_erase(
        contact_ids=list(contacts.values_list("id", flat=True)),
        channel=ErasureChannel.BULK,
        actor=actor,
        actor_name="" if actor else "bulk job",
    )


def delete_message(count: int) -> str:
    return ngettext(
        "%(count)s contact deleted.", "%(count)s contacts deleted.", count
    ) % {"count": number_format(count, force_grouping=True)}


class BulkDeleteView(BulkActionView):
    kind = KIND
    title = _("Delete")
    permission_required = "contacts.delete_contact"
    confirm_label = _("Delete")
    danger = True

    def question(self, form, count: int) -> str:
        return ngettext(
            "Delete %(count)s contact? Their personal data is erased; only a "
            "keyed hash of the email is kept, so that they are not added again.",
            "Delete %(count)s contacts? Their personal data is erased; only a "
            "keyed hash of each email is kept, so that they are not added again.",
            count,
        ) % {"count": number_format(count, force_grouping=True)}
