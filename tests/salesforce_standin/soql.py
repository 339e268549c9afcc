"""A deliberately small SOQL subset: enough for the sync's queries, no more.

Supported::

    SELECT field, ... FROM Contact|Lead
    [WHERE cond {AND|OR} cond ...]   (parentheses and NOT allowed)
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST]]
    [LIMIT n]

where a condition is ``field op value`` with op one of = != <> > >= < <=, or
``field [NOT] IN (value, ...)``; values are quoted strings, true/false, null,
numbers and datetime literals such as 2026-01-01T00:00:00Z. Anything else is
rejected with MALFORMED_QUERY so that a query the stand-in cannot judge never
passes silently.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .store import normalize_id, parse_datetime


class SoqlError(Exception):
    """A query Salesforce would refuse, with the errorCode it would send."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?
            (?:Z|[+-]\d{2}:?\d{2}))
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<op>!=|<>|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)

_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}

_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "TRUE",
    "FALSE",
    "NULL",
}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    value: Any = None

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def _unescape(quoted: str) -> str:
    body = quoted[1:-1]
    result = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            if escaped not in _ESCAPES:
                raise SoqlError(
                    "MALFORMED_QUERY", f"Invalid string literal escape: \\{escaped}"
                )
            result.append(_ESCAPES[escaped])
            index += 2
        else:
            result.append(char)
            index += 1
    return "".join(result)


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None or match.end() == position:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"unexpected token: '{text[position:].strip().split()[0]}'",
            )
        kind = match.lastgroup or ""
        raw = match.group(kind)
        value: Any = None
        if kind == "datetime":
            value = parse_datetime(raw)
        elif kind == "number":
            value = float(raw) if "." in raw else int(raw)
        elif kind == "string":
            value = _unescape(raw)
        tokens.append(_Token(kind, raw, value))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class Comparison:
    """One ``field op value`` or ``field [NOT] IN (...)`` condition."""

    field: str
    operator: str  # = != < <= > >= IN NOT IN
    value: Any  # a tuple for IN / NOT IN


@dataclass(frozen=True)
class BoolOp:
    """AND / OR over two or more conditions."""

    operator: str
    operands: tuple["Condition", ...]


@dataclass(frozen=True)
class Not:
    """NOT over one condition."""

    operand: "Condition"


Condition = Comparison | BoolOp | Not


@dataclass(frozen=True)
class SoqlQuery:
    """A parsed query; bind() it to canonical field names before executing."""

    fields: tuple[str, ...]
    sobject: str
    where: Condition | None = None
    order_by: str | None = None
    descending: bool = False
    nulls_last: bool = False
    limit: int | None = None

    def bind(self, resolve: Callable[[str], tuple[str, str]]) -> "SoqlQuery":
        """Return the query with canonical field names, checking literal types.

        ``resolve`` maps a field name as written to ``(canonical_name, type)`` and
        raises SoqlError for unknown fields.
        """
        fields = tuple(resolve(name)[0] for name in self.fields)
        order_by = resolve(self.order_by)[0] if self.order_by else None
        where = _bind_condition(self.where, resolve) if self.where else None
        return replace(self, fields=fields, where=where, order_by=order_by)

    def matching(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Filter, order and limit records (plain dicts keyed by field name)."""
        matched = [r for r in records if self.where is None or _holds(self.where, r)]
        if self.order_by:
            matched = _ordered(matched, self.order_by, self.descending, self.nulls_last)
        if self.limit is not None:
            matched = matched[: self.limit]
        return matched

    def execute(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the matching records cut down to the selected fields."""
        return [
            {name: record.get(name) for name in self.fields}
            for record in self.matching(records)
        ]


def parse(text: str) -> SoqlQuery:
    """Parse a SOQL query of the supported subset, raising SoqlError otherwise."""
    return _Parser(_tokenize(text)).query()


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> _Token | None:
        if self.position < len(self.tokens):
            return self.tokens[self.position]
        return None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.position += 1
        return token

    def expect_keyword(self, *words: str) -> _Token:
        token = self.take()
        if not token.is_keyword(*words):
            raise SoqlError(
                "MALFORMED_QUERY",
                f"unexpected token: '{token.text}', expecting {'/'.join(words)}",
            )
        return token

    def expect_punct(self, char: str) -> None:
        token = self.take()
        if token.text != char:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"unexpected token: '{token.text}', expecting '{char}'",
            )

    def identifier(self) -> str:
        token = self.take()
        if token.kind != "word" or token.text.upper() in _KEYWORDS:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        return token.text

    def query(self) -> SoqlQuery:
        self.expect_keyword("SELECT")
        fields = [self.identifier()]
        while self.peek() is not None and self.peek().text == ",":
            self.take()
            fields.append(self.identifier())

        self.expect_keyword("FROM")
        sobject = self.identifier()

        where = None
        token = self.peek()
        if token is not None and token.is_keyword("WHERE"):
            self.take()
            where = self.disjunction()

        order_by, descending, nulls_last = None, False, False
        token = self.peek()
        if token is not None and token.is_keyword("ORDER"):
            self.take()
            self.expect_keyword("BY")
            order_by = self.identifier()
            token = self.peek()
            if token is not None and token.is_keyword("ASC", "DESC"):
                descending = self.take().text.upper() == "DESC"
            # Salesforce sorts nulls first ascending and last descending by default.
            nulls_last = descending
            token = self.peek()
            if token is not None and token.is_keyword("NULLS"):
                self.take()
                nulls_last = self.expect_keyword("FIRST", "LAST").text.upper() == "LAST"

        limit = None
        token = self.peek()
        if token is not None and token.is_keyword("LIMIT"):
            self.take()
            token = self.take()
            if token.kind != "number" or not isinstance(token.value, int):
                raise SoqlError("MALFORMED_QUERY", "LIMIT needs a whole number")
            limit = token.value

        token = self.peek()
        if token is not None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        return SoqlQuery(
            fields=tuple(fields),
            sobject=sobject,
            where=where,
            order_by=order_by,
            descending=descending,
            nulls_last=nulls_last,
            limit=limit,
        )

    def disjunction(self) -> Condition:
        operands = [self.conjunction()]
        while (token := self.peek()) is not None and token.is_keyword("OR"):
            self.take()
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else BoolOp("OR", tuple(operands))

    def conjunction(self) -> Condition:
        operands = [self.negation()]
        while (token := self.peek()) is not None and token.is_keyword("AND"):
            self.take()
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else BoolOp("AND", tuple(operands))

    def negation(self) -> Condition:
        token = self.peek()
        if token is not None and token.is_keyword("NOT"):
            self.take()
            return Not(self.negation())
        if token is not None and token.text == "(":
            self.take()
            condition = self.disjunction()
            self.expect_punct(")")
            return condition
        return self.comparison()

    def comparison(self) -> Comparison:
        field = self.identifier()
        token = self.take()
        if token.kind == "op":
            operator = "!=" if token.text == "<>" else token.text
            return Comparison(field, operator, self.literal())
        operator = "IN"
        if token.is_keyword("NOT"):
            operator = "NOT IN"
            token = self.take()
        if not token.is_keyword("IN"):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        self.expect_punct("(")
        values = [self.literal()]
        while (token := self.take()).text == ",":
            values.append(self.literal())
        if token.text != ")":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        return Comparison(field, operator, tuple(values))

    def literal(self) -> Any:
        token = self.take()
        if token.kind in ("datetime", "number", "string"):
            return token.value
        if token.is_keyword("TRUE", "FALSE"):
            return token.text.upper() == "TRUE"
        if token.is_keyword("NULL"):
            return None
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")


_PYTHON_TYPES = {"boolean": bool, "datetime": datetime, "string": str, "id": str}


def _bind_condition(
    condition: Condition, resolve: Callable[[str], tuple[str, str]]
) -> Condition:
    if isinstance(condition, BoolOp):
        return BoolOp(
            condition.operator,
            tuple(_bind_condition(part, resolve) for part in condition.operands),
        )
    if isinstance(condition, Not):
        return Not(_bind_condition(condition.operand, resolve))
    name, field_type = resolve(condition.field)
    values = (
        condition.value if isinstance(condition.value, tuple) else (condition.value,)
    )
    expected = _PYTHON_TYPES[field_type]
    for value in values:
        if value is not None and not isinstance(value, expected):
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR",
                f"value of filter criterion for field '{name}' must be of type "
                f"{field_type}",
            )
    if field_type == "boolean" and condition.operator not in (
        "=",
        "!=",
        "IN",
        "NOT IN",
    ):
        raise SoqlError(
            "INVALID_QUERY_FILTER_OPERATOR",
            f"invalid operator on boolean field: {name}",
        )
    if field_type == "id":
        # Salesforce matches a 15-character id literal against the 18-character Id.
        values = tuple(normalize_id(v) or v if v else v for v in values)
    bound_value = values if isinstance(condition.value, tuple) else values[0]
    return Comparison(name, condition.operator, bound_value)


def _comparable(value: Any) -> Any:
    # SOQL compares text case-insensitively.
    return value.lower() if isinstance(value, str) else value


def _holds(condition: Condition, record: dict[str, Any]) -> bool:
    if isinstance(condition, BoolOp):
        parts = (_holds(part, record) for part in condition.operands)
        return all(parts) if condition.operator == "AND" else any(parts)
    if isinstance(condition, Not):
        return not _holds(condition.operand, record)
    actual = _comparable(record.get(condition.field))
    operator = condition.operator
    if operator in ("IN", "NOT IN"):
        found = actual in {_comparable(value) for value in condition.value}
        return found if operator == "IN" else not found
    expected = _comparable(condition.value)
    if operator == "=":
        return actual == expected
    if operator == "!=":
        return actual != expected
    if actual is None or expected is None:
        return False
    if operator == ">":
        return actual > expected
    if operator == ">=":
        return actual >= expected
    if operator == "<":
        return actual < expected
    return actual <= expected


def _ordered(
    records: list[dict[str, Any]], field: str, descending: bool, nulls_last: bool
) -> list[dict[str, Any]]:
    present = [r for r in records if r.get(field) is not None]
    missing = [r for r in records if r.get(field) is None]
    present.sort(key=lambda r: _comparable(r[field]), reverse=descending)
    return present + missing if nulls_last else missing + present
