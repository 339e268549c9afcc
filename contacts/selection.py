"""A selection of contacts for a bulk action: some ids, or "all matching".

The People list sends either the ids checked on the page (scope=ids&ids=...)
or, for "Select all N matching this filter", the filter itself
(scope=all&filter=<the list's filter querystring>): never a list of a
million ids. Every bulk action, whichever app adds it, reads its selection
through here, and a job stores it with `as_params()` to evaluate later.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from contacts.filters import PeopleFilter
from contacts.models import Contact

# A page shows 50 rows; more explicit ids than this is not a selection.
MAX_IDS = 1000
MAX_ID = 2**63 - 1


class SelectionError(ValueError):
    """The request's selection is missing or malformed; its text tells the person."""


def bad_selection(error: SelectionError) -> HttpResponse:
    """Answer a request whose selection is bad: 400, with the reason as text.

    Plain text, so that the page's script can show it as it is (app.js) when
    the request came from a menu of the People list.
    """
    return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")


def _unreadable() -> SelectionError:
    # Not something the People list sends: a stale or altered page.
    return SelectionError(
        _("This selection could not be read. Reload the People list and select again.")
    )


@dataclass(frozen=True)
class Selection:
    ids: tuple[int, ...] = ()
    filter_query: str | None = None

    @property
    def is_all_matching(self) -> bool:
        return self.filter_query is not None

    @classmethod
    def from_data(cls, data: QueryDict) -> "Selection":
        """Read a selection from GET or POST data; raise SelectionError if bad."""
        scope = data.get("scope", "ids")
        if scope == "all":
            return cls._all_matching(data.get("filter", ""))
        if scope != "ids":
            raise _unreadable()

        ids: set[int] = set()
        for raw in data.getlist("ids"):
            if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
                raise _unreadable()
            ids.add(int(raw))
        if not ids:
            raise SelectionError(_("Select at least one person first."))
        if len(ids) > MAX_IDS:
            raise SelectionError(
                _(
                    "At most %(limit)s people can be checked one by one. Use "
                    "“Select all … matching this filter” instead."
                )
                % {"limit": number_format(MAX_IDS, force_grouping=True)}
            )
        return cls(ids=tuple(sorted(ids)))

    @classmethod
    def _all_matching(cls, filter_query: str) -> "Selection":
        # An invalid filter value is ignored by the list (and shown as an
        # error); here it would widen the selection, so it is refused.
        if len(filter_query) > 4000:
            raise _unreadable()
        # The selection is stored with its job as JSON, which PostgreSQL
        # cannot hold a NUL in; no filter the list writes contains one.
        if "\x00" in filter_query:
            raise _unreadable()
        if not PeopleFilter(QueryDict(filter_query)).is_valid():
            raise SelectionError(
                _("The filter is not valid. Correct it in the People list first.")
            )
        return cls(filter_query=filter_query)

    @classmethod
    def from_params(cls, params: dict) -> "Selection":
        """Read back a selection stored with `as_params()`."""
        if "filter" in params:
            return cls._all_matching(params["filter"])
        return cls(ids=tuple(int(i) for i in params["ids"]))

    def as_params(self) -> dict:
        if self.is_all_matching:
            return {"filter": self.filter_query}
        return {"ids": list(self.ids)}

    def hidden_fields(self) -> list[tuple[str, str]]:
        """Return the (name, value) pairs that carry this selection in a form."""
        if self.is_all_matching:
            return [("scope", "all"), ("filter", self.filter_query or "")]
        return [("scope", "ids"), *[("ids", str(i)) for i in self.ids]]

    def queryset(self) -> QuerySet[Contact]:
        """Return the selected contacts, evaluated now."""
        if self.is_all_matching:
            return PeopleFilter(
                QueryDict(self.filter_query), queryset=Contact.objects.all()
            ).qs
        return Contact.objects.filter(id__in=self.ids)
