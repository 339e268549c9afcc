"""The gaps in the contact base the overview counts, each a People list filter.

A gap is defined by the People list querystring that lists its contacts, and
the overview counts it by running that very filter: the number on the page and
the list behind its link cannot disagree.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from contacts.choices import PermissionType
from contacts.filters import PeopleFilter
from contacts.models import Contact


@dataclass(frozen=True)
class Gap:
    key: str
    label: str | Promise
    hint: str | Promise
    query: tuple[tuple[str, str], ...]

    @property
    def people_url(self) -> str:
        return f"{reverse('contacts:people')}?{urlencode(self.query)}"

    def count(self) -> int:
        """Count the contacts in this gap: a full count, for the task only."""
        data = QueryDict(urlencode(self.query))
        return PeopleFilter(data, queryset=Contact.objects.all()).qs.count()


GAPS = (
    Gap(
        "no_permission_type",
        _("No Permission type"),
        _("No legal basis is recorded."),
        (("permission_type", PermissionType.NOT_SET),),
    ),
    Gap(
        "consent_missing_evidence",
        _("Consent without evidence"),
        _("Consent, but no consent date or no processing purpose."),
        (("consent_evidence", "missing"),),
    ),
    Gap(
        "consent_expired",
        _("Expired consent"),
        _("Consent whose expiry date has passed."),
        (("consent_expired", "yes"),),
    ),
)
