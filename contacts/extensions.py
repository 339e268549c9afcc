"""Places where the apps above `contacts` plug into its pages.

`contacts` is the ground floor and imports nothing from the apps built on it.
Instead, each of them registers, in its AppConfig.ready(), the panels it adds
to Person Details and the actions it adds to the People list's "⋮" menu.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise


@dataclass(frozen=True)
class PersonPanel:
    """A card on Person Details, rendered from `template` with `context()`."""

    key: str
    template: str
    order: int
    context: Callable[[HttpRequest, Any], dict] = field(
        default=lambda request, contact: {}
    )
    permission: str | None = None


@dataclass(frozen=True)
class BulkAction:
    """An entry of the People list's "⋮" menu.

    `url_name` names a view that takes the selection (see contacts.selection)
    as GET or POST parameters.
    """

    key: str
    label: str | Promise  # a lazy translation, rendered in the user's language
    url_name: str
    order: int
    permission: str | None = None


@dataclass(frozen=True)
class PersonAction:
    """An entry of Person Details' "⋮" menu; `url_name` takes the contact id."""

    key: str
    label: str | Promise  # a lazy translation, rendered in the user's language
    url_name: str
    order: int
    permission: str | None = None
    method: str = "get"


@dataclass(frozen=True)
class BulkJobKind:
    """How a bulk action changes one batch of contacts (see contacts.bulk).

    `apply(contacts=QuerySet, change=dict, actor=User | None)` changes the
    batch, already locked, in the caller's transaction, and returns how many
    contacts it actually changed. `message(count)` is the outcome shown to the
    user ("Permission updated for 1,204 contacts.").
    """

    key: str
    apply: Callable[..., int]
    message: Callable[[int], str]


_person_panels: dict[str, PersonPanel] = {}
_bulk_actions: dict[str, BulkAction] = {}
_person_actions: dict[str, PersonAction] = {}
_bulk_job_kinds: dict[str, BulkJobKind] = {}


def register_person_panel(panel: PersonPanel) -> None:
    _person_panels[panel.key] = panel


def register_bulk_action(action: BulkAction) -> None:
    _bulk_actions[action.key] = action


def register_person_action(action: PersonAction) -> None:
    _person_actions[action.key] = action


def register_bulk_job_kind(kind: BulkJobKind) -> None:
    _bulk_job_kinds[kind.key] = kind


def bulk_job_kind(key: str) -> BulkJobKind:
    """Return the registered job kind `key`; raise KeyError if there is none."""
    return _bulk_job_kinds[key]


def bulk_job_kind_keys() -> list[str]:
    """Return the keys of every registered bulk job kind."""
    return list(_bulk_job_kinds)


def _allowed(items, user):
    return sorted(
        (i for i in items if i.permission is None or user.has_perm(i.permission)),
        key=lambda i: i.order,
    )


def person_panels_for(user) -> list[PersonPanel]:
    return _allowed(_person_panels.values(), user)


def bulk_actions_for(user) -> list[BulkAction]:
    return _allowed(_bulk_actions.values(), user)


def person_actions_for(user) -> list[PersonAction]:
    return _allowed(_person_actions.values(), user)


# Lifecycle hooks. "contacts_created" runs inside the transaction that created
# the contacts, with (contact_ids, actor, channel); "contacts_erasing" runs
# inside the erasure transaction, before the rows go, with (contact_ids), so
# each app can remove or redact what it holds about those people. The contacts
# are then deleted with one statement, without Django's cascade: an app whose
# rows reference Contact must delete them or unlink them in its hook.
CONTACTS_CREATED = "contacts_created"
CONTACTS_ERASING = "contacts_erasing"

# A hook's return value is ignored.
_hooks: dict[str, dict[str, Callable[..., object]]] = {
    CONTACTS_CREATED: {},
    CONTACTS_ERASING: {},
}


def register_hook(event: str, key: str, hook: Callable[..., object]) -> None:
    _hooks[event][key] = hook


def run_hooks(event: str, **kwargs: Any) -> None:
    for hook in _hooks[event].values():
        hook(**kwargs)
