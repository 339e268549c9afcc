"""Generated bad input, and the one verdict every response to it must pass.

The verdict (`check`): never a 500 (the test client re-raises a view's
exception, so one fails the example with its input); a 4xx, or the page again
with field errors, or an accepted request; and when the input was refused, or
the request was a GET or HEAD, not one row of the database changed.
"""

import contextlib
import re
from collections.abc import Iterator

from django.apps import apps
from django.db import connection, transaction
from hypothesis import strategies as st

from contacts.models import Contact
from tests.plugins.figures import record

BAD_INPUTS = "bad inputs tried (security fuzz suite)"
REFUSED = "bad inputs refused (4xx or field errors)"

# Values that have broken web apps before: markup, SQL, path tricks, format
# strings, control characters, bidi overrides, huge and odd numbers, dates
# that do not exist, encodings of nothing.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\x1b[31m",
    "\u202e",
    "\ufeff",
    "😀" * 50,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "' OR 1=1 --",
    "%(name)s %s {0} {{7*7}}",
    "../../../../etc/passwd",
    "%00",
    "%",
    "\\",
    "-1",
    "0",
    "1e308",
    "NaN",
    "9" * 40,
    "2026-02-30",
    "0000-00-00",
    "9999-12-31",
    "1969-12-31",
    "true",
    "null",
    "[]",
    "{}",
    "x" * 5000,
]

# Form values: anything a browser can send (no lone surrogates: they cannot
# be encoded into a request at all).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
nasty = st.sampled_from(NASTY)
value = st.one_of(nasty, text, st.integers().map(str))
values = st.one_of(value, st.lists(value, min_size=2, max_size=3))
# A few keys a form does not have, to see they are ignored.
junk_keys = st.dictionaries(
    st.sampled_from(["id", "pk", "actor", "is_staff", "csrfmiddlewaretoken", "x"]),
    value,
    max_size=2,
)


def form(fields: dict) -> st.SearchStrategy[dict]:
    """Return dicts with some of `fields` (name -> strategy) and junk keys."""
    return st.tuples(st.fixed_dictionaries({}, optional=fields), junk_keys).map(
        lambda parts: {**parts[1], **parts[0]}
    )


def any_of(*good: str) -> st.SearchStrategy:
    """A value of a choice field: a valid choice, or anything else."""
    return st.one_of(st.sampled_from(good), values)


_TABLES: list[str] = []


def _tables() -> list[str]:
    if not _TABLES:
        # Sessions change on every request that stores a message; they hold
        # no application data. Without Redis (the laptop default), django-axes
        # counts a refused login in its own tables, as it must.
        _TABLES.extend(
            sorted(
                model._meta.db_table
                for model in apps.get_models()
                if model._meta.managed
                and model._meta.db_table != "django_session"
                and model._meta.app_label != "axes"
            )
        )
    return _TABLES


def snapshot() -> tuple:
    """Return the row count of every table and every contact's full row."""
    counts = " UNION ALL ".join(
        f"SELECT '{table}', count(*) FROM \"{table}\""  # noqa: S608
        for table in _tables()
    )
    with connection.cursor() as cursor:
        cursor.execute(counts)
        rows = dict(cursor.fetchall())
    contacts = tuple(Contact.objects.order_by("pk").values_list())
    return rows, contacts


_FIELD_ERRORS = re.compile(rb'class="errorlist|role="alert"|class="alert alert-error')


def refused(response) -> bool:
    """Return True if the response refuses the input (4xx or errors shown)."""
    if 400 <= response.status_code < 500:
        return True
    if response.status_code == 200 and not response.streaming:
        return bool(_FIELD_ERRORS.search(response.content))
    return False


@contextlib.contextmanager
def example() -> Iterator[None]:
    """Run one example in a savepoint that is rolled back afterwards.

    Examples share the test's data; an accepted input must not change what the
    next example starts from.
    """
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def check(response, before: tuple, *, method: str = "POST") -> None:
    """Assert the verdict on one response to generated input."""
    record(BAD_INPUTS)
    if response.streaming:
        b"".join(response.streaming_content)
    status = response.status_code
    assert status < 500, f"{status} for generated input"
    assert status in (200, 204, 301, 302, 303, 400, 403, 404, 405, 413, 429), status
    if refused(response):
        record(REFUSED)
    if refused(response) or method in ("GET", "HEAD"):
        assert snapshot() == before, f"{method} {status} changed the database"
