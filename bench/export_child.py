"""One export in a fresh process, so its peak memory is its own.

    python -m bench.export_child stream|copy|http LIMIT

Prints one JSON line: rows, bytes, seconds, first_byte_seconds, peak_rss_kib.
"""

import json
import os
import resource
import sys
import time

import django

# Exported At as the export writes it: ISO 8601, UTC, to the second.
EXPORTED_AT = "2026-01-01T00:00:00Z"


class _Sink:
    """Count what COPY writes, keeping none of it."""

    def __init__(self) -> None:
        self.size = 0
        self.first_at: float | None = None

    def write(self, data) -> int:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.size += len(data)
        return len(data)


def _stream(limit: int, started: float) -> tuple[int, float | None]:
    from contacts.models import Contact
    from exports.writers import ContactsCsvStream

    contacts = Contact.objects.filter(id__lte=limit).order_by("id")
    size, first_row_at = 0, None
    # The first chunk is the header alone; the first row chunk is what a
    # person waits for.
    for index, chunk in enumerate(ContactsCsvStream(contacts, exported_at=EXPORTED_AT)):
        if index == 1:
            first_row_at = time.perf_counter()
        size += len(chunk)
    return size, first_row_at


def _http(limit: int, started: float) -> tuple[int, float | None]:
    from django.test import Client

    from bench.harness import bench_admin

    client = Client()
    client.force_login(bench_admin())
    response = client.post("/exports/people.csv", {"scope": "all", "filter": ""})
    size, first_row_at = 0, None
    for index, chunk in enumerate(response.streaming_content):
        if index == 1:
            first_row_at = time.perf_counter()
        size += len(chunk)
    return size, first_row_at


def _copy(limit: int, started: float) -> tuple[int, float | None]:
    from django.db import connection

    from exports.columns import BULK_FIELDS, EXPORTED_AT_POSITION

    # The same columns as the export: Exported At is one constant for every
    # row, so COPY gets it as a literal in its place.
    columns = list(BULK_FIELDS)
    columns.insert(EXPORTED_AT_POSITION, f"'{EXPORTED_AT}'")
    sink = _Sink()
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY (SELECT {', '.join(columns)} FROM contacts_contact "  # noqa: S608 # nosec B608 - fixed columns and literal, an integer
            f"WHERE id <= {limit:d} ORDER BY id) TO STDOUT WITH CSV HEADER",
            sink,
        )
    return sink.size, sink.first_at


def main() -> None:
    mode, limit = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesinsight.test_settings")
    django.setup()

    started = time.perf_counter()
    size, first_at = {"stream": _stream, "copy": _copy, "http": _http}[mode](
        limit, started
    )
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bytes": size,
                "seconds": elapsed,
                "first_byte_seconds": (first_at or time.perf_counter()) - started,
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


if __name__ == "__main__":
    main()
