"""How the sync reads Salesforce records: types, the opt-out field, times."""

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

SOBJECTS = ("Contact", "Lead")
_KEY_PREFIXES = {"003": "Contact", "00Q": "Lead"}
# Who the history names for changes the sync makes.
ACTOR_NAME = "Salesforce sync"
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def opt_out_field() -> str:
    """Return the configured opt-out checkbox's API name, checked for SOQL."""
    name = settings.SALESFORCE_OPT_OUT_FIELD
    if not FIELD_NAME.match(name):
        raise ImproperlyConfigured("SALESFORCE_OPT_OUT_FIELD is not a field API name.")
    return name


def sobject_of(salesforce_id: str) -> str:
    """Return "Contact" or "Lead" from an id's key prefix, else ""."""
    return _KEY_PREFIXES.get(salesforce_id[:3], "")


def parse_datetime(value: str) -> datetime:
    """Parse Salesforce's 2026-01-01T00:00:00.000+0000 form."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def soql_datetime(value: datetime) -> str:
    """Render a datetime as a SOQL literal, floored to the second."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_later(local: datetime | None, salesforce: datetime) -> bool:
    """Tell whether a local change came strictly after a Salesforce change.

    Salesforce keeps milliseconds; a tie counts as "not later", so that an
    opt-out made in the same millisecond as a resubscribe wins.
    """
    if local is None:
        return False
    truncated = local.replace(microsecond=local.microsecond // 1000 * 1000)
    return truncated > salesforce


# How far before the watermark each pull reads again: SystemModstamp is set
# when a Salesforce transaction starts, so a record can become visible after a
# later-stamped one was already read.
OVERLAP = timedelta(minutes=5)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of at most `size` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
