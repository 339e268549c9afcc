"""Keyset (cursor) pagination: every page costs one index range scan.

OFFSET pagination reads and throws away every row before the page, so page
20,000 of a million contacts costs 20,000 times page one. A keyset page starts
right after the boundary row of the page before it: WHERE (sort columns, id) >
(the boundary's values), on an index of exactly those columns. The id makes
every key unique, so rows with equal sort values are neither lost nor repeated.

A cursor is the sort, a direction and the boundary's values, signed so that a
client cannot hand us a malformed one; anything that does not verify is treated
as "no cursor" (the first page), never as an error.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.core import signing
from django.db import models
from django.db.models import F, Value
from django.db.models.expressions import Expression

CURSOR_SALT = "contacts.pagination.cursor"

Direction = Literal["next", "prev"]


@dataclass(frozen=True)
class Sort:
    """An ordering of the People list; `fields` end with the tie-breaker id."""

    key: str
    fields: tuple[str, ...]
    descending: bool = False


@dataclass(frozen=True)
class Cursor:
    sort: str
    direction: Direction
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None


class RowCompare(Expression):
    """Compare a row of columns with a row of values: (a, b, id) > (x, y, z).

    PostgreSQL turns a row comparison into one index range condition on an
    index of (a, b, id); the equivalent chain of ORs would not use the index
    as a range. SQLite supports row values too.
    """

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, fields: Sequence[str], operator: str, values: Sequence[Any]):
        if operator not in (">", "<"):
            raise ValueError(f"Unsupported operator {operator!r}")
        super().__init__()
        self.operator = operator
        self.columns = [F(name) for name in fields]
        self.values = [Value(value) for value in values]

    def get_source_expressions(self) -> list:
        return [*self.columns, *self.values]

    def set_source_expressions(self, expressions: Sequence[Any]) -> None:
        half = len(expressions) // 2
        self.columns, self.values = list(expressions[:half]), list(expressions[half:])

    def as_sql(self, compiler, connection):
        sql_parts, params = [], []
        for side in (self.columns, self.values):
            compiled = [compiler.compile(expression) for expression in side]
            sql_parts.append("(" + ", ".join(sql for sql, _ in compiled) + ")")
            for _, expression_params in compiled:
                params.extend(expression_params)
        return f"{sql_parts[0]} {self.operator} {sql_parts[1]}", params


def _serialise(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _deserialise(model: type[models.Model], field_name: str, raw: Any) -> Any:
    field = model._meta.get_field(field_name)
    if isinstance(field, models.DateTimeField):
        if not isinstance(raw, str):
            raise ValueError("expected a date and time")
        parsed = datetime.datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            raise ValueError("expected an aware date and time")
        return parsed
    if isinstance(field, models.AutoField | models.IntegerField):
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ValueError("expected an integer")
        return raw
    if not isinstance(raw, str):
        raise ValueError("expected text")
    return raw


def encode_cursor(sort: Sort, direction: Direction, row: models.Model) -> str:
    """Return the signed cursor of the page before or after `row`."""
    values = [_serialise(getattr(row, name)) for name in sort.fields]
    return signing.dumps([sort.key, direction, values], salt=CURSOR_SALT)


def decode_cursor(
    token: str | None, sort: Sort, model: type[models.Model]
) -> Cursor | None:
    """Return the cursor in `token`, or None if it is absent, forged or stale.

    A cursor made for another sort is stale (the user changed the sort): the
    list starts again from the first page.
    """
    if not token:
        return None
    try:
        key, direction, raw_values = signing.loads(token, salt=CURSOR_SALT)
        if key != sort.key or direction not in ("next", "prev"):
            return None
        if not isinstance(raw_values, list) or len(raw_values) != len(sort.fields):
            return None
        values = tuple(
            _deserialise(model, name, raw)
            for name, raw in zip(sort.fields, raw_values, strict=True)
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return Cursor(sort=key, direction=direction, values=values)


def keyset_page(
    queryset: models.QuerySet, sort: Sort, cursor: Cursor | None, size: int
) -> Page:
    """Return one page of `queryset` in `sort` order, starting at `cursor`.

    One query per page: it fetches one row more than the page to learn
    whether another page follows in the direction of travel.
    """
    backwards = cursor is not None and cursor.direction == "prev"
    # Walking backwards reads the index in the opposite direction and turns
    # the rows round afterwards.
    ascending = sort.descending == backwards
    ordering = [name if ascending else f"-{name}" for name in sort.fields]

    rows_query = queryset.order_by(*ordering)
    if cursor is not None:
        operator = ">" if ascending else "<"
        rows_query = rows_query.filter(RowCompare(sort.fields, operator, cursor.values))
    rows = list(rows_query[: size + 1])

    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        if not more:
            # Back at the start: show the true first page, full length, even if
            # rows were added or removed since the user walked away from it.
            return keyset_page(queryset, sort, None, size)

    # Walking backwards, the page we came from follows; any cursor at all
    # means rows precede (the early return above handled reaching the start).
    has_next = more or backwards
    has_previous = cursor is not None
    return Page(
        rows=rows,
        next_cursor=encode_cursor(sort, "next", rows[-1])
        if has_next and rows
        else None,
        previous_cursor=(
            encode_cursor(sort, "prev", rows[0]) if has_previous and rows else None
        ),
    )
