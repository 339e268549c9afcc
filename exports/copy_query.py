"""The bulk CSV as one PostgreSQL COPY statement, cell for cell like the Python rows.

Each column of exports/columns.py becomes a SQL expression that renders the
cell text exactly as the row functions there do, so that COPY writes the file
without a row passing through Python. Every value (labels, formula characters,
Exported At) is a parameter that the driver quotes, never pasted into the SQL.

Empty cells are NULL, not '': COPY's CSV quotes an empty string ("") but
writes NULL as nothing, which is what Python's csv module writes for "".
"""

from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from contacts.models import Contact, column_name
from exports.columns import (
    BULK_CELLS,
    BULK_CHOICES,
    BULK_FIELDS,
    EXPORTED_AT_POSITION,
    Cell,
    boolean,
    english_labels,
)
from exports.safety import FORMULA_ESCAPE, FORMULA_TRIGGERS

# timestamp() and date() in SQL: to_char truncates to the second as
# isoformat(timespec="seconds") does, and pads years to four digits.
TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
DATE_FORMAT = "YYYY-MM-DD"
# Compared as code points: ascii() of the first character is cheaper than a
# text comparison per trigger, and gives 0 for an empty string. PostgreSQL
# looks a list of nine or more constants up in a hash table instead of trying
# each in turn; -1, which ascii() never returns, makes the eight triggers nine,
# and the export a tenth faster.
TRIGGER_CODES = [-1, *sorted(ord(trigger) for trigger in FORMULA_TRIGGERS)]

SqlParams = tuple[str, list[Any]]


def safe_text_sql(column: str) -> SqlParams:
    """Return safe_cell() of a text column in SQL.

    safe_cell also drops NUL characters; PostgreSQL text cannot hold one, so
    that rule holds here by construction.
    """
    return (
        f"CASE WHEN ascii({column}) = ANY(%s) THEN %s || {column} "
        f"ELSE NULLIF({column}, '') END",
        [TRIGGER_CODES, FORMULA_ESCAPE],
    )


def timestamp_sql(column: str) -> SqlParams:
    return f"to_char({column} AT TIME ZONE 'UTC', %s)", [TIMESTAMP_FORMAT]


def choice_sql(column: str, choices: type) -> SqlParams:
    """Return the English label of a choice; an unknown value as safe text."""
    whens, params = [], []
    for value, label in english_labels(choices).items():
        whens.append("WHEN %s THEN %s")
        params += [value, label]
    otherwise, otherwise_params = safe_text_sql(column)
    return (
        f"CASE {column} {' '.join(whens)} ELSE {otherwise} END",
        params + otherwise_params,
    )


def cell_sql(field: str, column: str, columns: dict[str, str]) -> SqlParams:
    """Return the SQL rendering one bulk field as its cell text, NULL when empty."""
    kind = BULK_CELLS[field]
    if kind is Cell.TEXT:
        return safe_text_sql(column)
    if kind is Cell.NUMBER:
        return f"{column}::text", []
    if kind is Cell.TIMESTAMP:
        return timestamp_sql(column)
    if kind is Cell.DATE:
        return f"to_char({column}, %s)", [DATE_FORMAT]
    if kind is Cell.BOOLEAN:
        return f"CASE WHEN {column} THEN %s ELSE %s END", [
            boolean(True),
            boolean(False),
        ]
    if kind is Cell.CHOICE:
        return choice_sql(column, BULK_CHOICES[field])
    if kind is Cell.UNSUBSCRIBED_SINCE:
        since, params = timestamp_sql(column)
        return f"CASE WHEN {columns['is_unsubscribed']} THEN {since} END", params
    raise ValueError(f"No SQL for {kind}")


def bulk_copy_sql(contacts: QuerySet[Contact], *, exported_at: str) -> SqlParams:
    """Return `COPY (<the contacts' bulk rows>) TO STDOUT` and its parameters.

    The queryset keeps its filter and order: the cells are annotations on it.
    """
    quote = connections[contacts.db].ops.quote_name
    table = quote(Contact._meta.db_table)
    # Qualified, because a filter may join tables that share column names.
    columns = {
        field: f"{table}.{quote(column_name(Contact, field))}" for field in BULK_FIELDS
    }

    # RawSQL holds only quoted column names and placeholders; values are params.
    cells = [
        RawSQL(*cell_sql(field, columns[field], columns))  # noqa: S611 # nosec B611
        for field in BULK_FIELDS
    ]
    exported = RawSQL("NULLIF(%s, '')", [exported_at])
    cells.insert(EXPORTED_AT_POSITION, exported)
    names = {f"cell_{index}": cell for index, cell in enumerate(cells)}
    query = contacts.annotate(**names).values_list(*names).query
    select, params = query.sql_with_params()
    return f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", list(params)
