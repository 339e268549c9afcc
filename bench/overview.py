"""Compliance overview: the page against a summary, and the summary's refresh.

The page reads a summary row that a scheduled task refreshes, so its cost must
not grow with the contact base; the refresh is the part that scans, off the
request path. Both are measured here at the seeded size; run the quick mode
(BENCH_SIZE=10000) beside the full one to compare the page across sizes.
"""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.harness import Report, Row, bench_admin, measure
from overview.services import summary_refresh

PAGE = "/overview/"


def run(report: Report, *, size: int, runs: int) -> None:
    refresh = measure(summary_refresh, runs=max(1, runs // 2))

    client = Client()
    client.force_login(bench_admin())
    page = measure(lambda: client.get(PAGE), runs=runs)
    with CaptureQueriesContext(connection) as queries:
        client.get(PAGE)
    touches_contacts = sum("contacts_contact" in q["sql"] for q in queries)

    report.add(
        Row(
            f"Compliance overview page vs its summary refresh, {size:,} contacts",
            page.median * 1000,
            refresh.median * 1000,
            "ms",
            target=None,
            noisy=page.noisy,
            note=f"{len(queries)} statements per page, {touches_contacts} on the "
            "contact table",
        )
    )
