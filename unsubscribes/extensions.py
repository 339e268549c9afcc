"""Where the apps above `unsubscribes` add their own rows to subscription changes.

The Salesforce sync sits above this app, so the services here cannot import
it. Instead it registers a writer in its AppConfig.ready(). For every change
the services ask each writer for the rows it wants written with it:

    writer(action="unsubscribe" | "resubscribe", channel="one_click" | ...)
        -> ChangeRows | None

ChangeRows names a model with a foreign key to the contact, and the values
of its other fields. The services insert one such row per changed contact in
the very statement (an unsubscribe on PostgreSQL) or transaction that records
the change, so the rows commit exactly when the change does, and a row that
cannot be written stops the change. A writer's `on_commit` is then called
with the ids of the contacts that changed.

Writers are asked about every change from every channel, including
"salesforce_sync": a writer that pushes to Salesforce must skip that channel
itself. They are asked before anything is written, whether or not a contact
turns out to change, so asking must be cheap and write nothing.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class ChangeRows:
    """One row of `model` for each contact a change changed.

    `contact_field` is the foreign key filled with the contact's id; `values`
    gives the other fields by attribute name (`actor_id`, not `actor`). A
    field left out gets its default, or the time of the write for
    auto_now and auto_now_add. Without a model no row is written, and the
    writer is only told, through `on_commit`, which contacts changed.
    """

    model: type[models.Model] | None = None
    contact_field: str = "contact"
    values: Mapping[str, Any] = field(default_factory=dict)
    on_commit: Callable[[list[int]], None] | None = None


SubscriptionWriter = Callable[..., ChangeRows | None]

_writers: dict[str, SubscriptionWriter] = {}


def register_subscription_writer(writer: SubscriptionWriter) -> None:
    """Ask `writer` for its rows on every subscription change."""
    # Keyed by name so that registering twice (ready() runs again in some test
    # set-ups) still writes the rows once.
    _writers[f"{writer.__module__}.{writer.__qualname__}"] = writer


def change_rows(*, action: str, channel: str) -> list[ChangeRows]:
    """Return what every writer wants written, or told, with this kind of change."""
    wanted = (writer(action=action, channel=channel) for writer in _writers.values())
    return [rows for rows in wanted if rows is not None]
