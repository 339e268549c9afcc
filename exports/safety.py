"""The one CSV writer the app uses, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, `|`, `%`, a tab or a carriage
return can be read by Excel, LibreOffice or Google Sheets as a formula (CSV
injection). Every such cell gets a leading single quote, which those programs
read as "this is text". NUL characters are dropped: they truncate or corrupt
files in many tools and have no meaning in a contact's data.

Every CSV the app writes, from the contact and bulk exports to the access
bundle and django-import-export's admin export, goes through `safe_cell`; the
bulk export on PostgreSQL applies the same rule in SQL (exports/copy_query.py).
"""

import csv
import io
from collections.abc import Iterable
from typing import Any

# A byte-order mark makes Excel read the file as UTF-8 instead of the
# machine's legacy code page, which would mangle names such as "Müller"; the
# README's "Exports" section says why it is written.
BOM = "\ufeff"

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "|", "%")
# What a neutralised cell starts with.
FORMULA_ESCAPE = "'"


def safe_cell(value: Any) -> str:
    """Return `value` as CSV cell text that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
    if text.startswith(FORMULA_TRIGGERS):
        return FORMULA_ESCAPE + text
    return text


def safe_row(values: Iterable[Any]) -> list[str]:
    """Return a row with every cell made safe."""
    return [safe_cell(value) for value in values]


class SafeWriter:
    """A csv.writer over any text file whose every cell passes through safe_cell.

    Rows end with CRLF (RFC 4180), and every cell that needs it is quoted.
    """

    def __init__(self, file: Any) -> None:
        self._writer = csv.writer(file, lineterminator="\r\n")

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow(safe_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows(safe_row(values) for values in rows)


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """Return a whole CSV document, with the BOM, as text."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = SafeWriter(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
