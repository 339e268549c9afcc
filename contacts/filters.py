"""The People list's filters; their state lives in the URL's querystring."""

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.choices import PermissionType, SourceType
from contacts.models import Contact
from contacts.retention import needs_review_q

SEARCHED_FIELDS = ("first_name", "last_name", "email", "company")
MAX_SEARCH_WORDS = 5
YES_NO = (("yes", _("Yes")), ("no", _("No")))
EVIDENCE = (("missing", _("Missing")), ("complete", _("Complete")))


def consent_missing_evidence() -> Q:
    """Match contacts on Consent that lack a consent date or a processing purpose.

    The rules require both for Consent today; older rows, imports from before
    the rules, or the admin's raw edits may not have them.
    """
    return Q(permission_type=PermissionType.CONSENT) & (
        Q(consent_date__isnull=True) | Q(processing_purpose="")
    )


def consent_expired() -> Q:
    """Match contacts whose consent has an expiry date that has passed."""
    return Q(
        permission_type=PermissionType.CONSENT,
        consent_expires_on__lt=timezone.localdate(),
    )


class _DateRangeWidget(django_filters.widgets.DateRangeWidget):
    def __init__(self, attrs=None):
        super().__init__(attrs={"type": "date", **(attrs or {})})


class PeopleFilter(django_filters.FilterSet):
    """Filter contacts by free text, legal basis, source, consent and creation.

    Every filter has an index (contacts/models.py and migration 0003), so a
    filtered page costs the same at any depth.
    """

    q = django_filters.CharFilter(
        label=_("Search"), method="search", max_length=200, strip=True
    )
    permission_type = django_filters.ChoiceFilter(
        label=_("Permission type"), choices=PermissionType.choices
    )
    source_type = django_filters.ChoiceFilter(
        label=_("Source type"), choices=SourceType.choices
    )
    has_consent = django_filters.ChoiceFilter(
        label=_("Has consent"), choices=YES_NO, method="filter_has_consent"
    )
    consent_evidence = django_filters.ChoiceFilter(
        label=_("Consent evidence"), choices=EVIDENCE, method="filter_consent_evidence"
    )
    consent_expired = django_filters.ChoiceFilter(
        label=_("Consent expired"), choices=YES_NO, method="filter_consent_expired"
    )
    consent_date = django_filters.DateFromToRangeFilter(
        label=_("Consent date"), widget=_DateRangeWidget
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Created"), field_name="created_at", widget=_DateRangeWidget
    )
    needs_review = django_filters.ChoiceFilter(
        label=_("Needs review"), choices=YES_NO, method="filter_needs_review"
    )

    class Meta:
        model = Contact
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Keep contacts where every word appears in a name, the email or company.

        A case-insensitive substring match: the trigram indexes answer it on
        PostgreSQL for words of three characters or more.
        """
        for word in value.split()[:MAX_SEARCH_WORDS]:
            matches_word = Q()
            for field in SEARCHED_FIELDS:
                matches_word |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(matches_word)
        return queryset

    def filter_needs_review(
        self, queryset: QuerySet, name: str, value: str
    ) -> QuerySet:
        """Keep contacts due (or not due) for a retention review, as of now."""
        if value == "yes":
            return queryset.filter(needs_review_q())
        return queryset.exclude(needs_review_q())

    def filter_has_consent(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "yes":
            return queryset.filter(permission_type=PermissionType.CONSENT)
        return queryset.exclude(permission_type=PermissionType.CONSENT)

    def filter_consent_evidence(
        self, queryset: QuerySet, name: str, value: str
    ) -> QuerySet:
        if value == "missing":
            return queryset.filter(consent_missing_evidence())
        return queryset.filter(permission_type=PermissionType.CONSENT).exclude(
            consent_missing_evidence()
        )

    def filter_consent_expired(
        self, queryset: QuerySet, name: str, value: str
    ) -> QuerySet:
        if value == "yes":
            return queryset.filter(consent_expired())
        return queryset.exclude(consent_expired())
