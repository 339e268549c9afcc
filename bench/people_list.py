"""People list: a deep page against the first, and against the Django admin.

The admin changelist is what a Django project gets by default: OFFSET paging
and a COUNT(*) of the whole match on every page. It is the baseline the
figures are shown against; the targets are the People list's own: a deep page
at most 1.2 times the first, and a constant number of statements.
"""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.harness import Report, Row, bench_admin, measure_side_by_side
from contacts.models import Contact
from contacts.pagination import encode_cursor
from contacts.selectors import SORTS

FILTERS = {"permission_type": "consent", "source_type": "import"}
ADMIN_FILTERS = {"permission_type__exact": "consent", "source_type__exact": "import"}
# A surname the seed gives about one contact in forty.
SEARCH = {"q": "Schmidt"}
ADMIN_PAGE_SIZE = 100
ADMIN_PATH = "/admin/contacts/contact/"


def _client() -> Client:
    client = Client()
    client.force_login(bench_admin())
    return client


def _middle_cursor(filters: dict[str, str]) -> tuple[str, int]:
    """Return the cursor of the page that starts halfway down, and the depth.

    `filters` are ORM lookups matching the same rows as the page's filter.
    """
    sort = SORTS["name"]
    matches = Contact.objects.filter(**filters)
    depth = matches.count() // 2
    row = matches.order_by(*sort.fields).only(*sort.fields)[depth]
    return encode_cursor(sort, "next", row), depth


def _get(client: Client, path: str, params: dict[str, str]) -> None:
    response = client.get(path, params)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")


def _statements(client: Client, path: str, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        _get(client, path, params)
    return len(queries)


def run(report: Report, *, size: int, runs: int) -> None:
    client = _client()

    for label, filters, admin_filters, matching in (
        ("unfiltered", {}, {}, {}),
        ("two filters", FILTERS, ADMIN_FILTERS, FILTERS),
        ("search", SEARCH, SEARCH, {"last_name": SEARCH["q"]}),
    ):
        cursor, depth = _middle_cursor(matching)
        first_params = dict(filters)
        deep_params = {**filters, "cursor": cursor}
        admin_first_params = dict(admin_filters)
        admin_deep_params = {
            **admin_filters,
            "p": str(depth // ADMIN_PAGE_SIZE + 1),
        }
        first, deep, admin_first, admin_deep = measure_side_by_side(
            [
                lambda p=first_params: _get(client, "/people/", p),
                lambda p=deep_params: _get(client, "/people/", p),
                lambda p=admin_first_params: _get(client, ADMIN_PATH, p),
                lambda p=admin_deep_params: _get(client, ADMIN_PATH, p),
            ],
            runs=runs,
        )

        report.add(
            Row(
                f"People list, page at depth {depth:,} vs first page ({label})",
                deep.median * 1000,
                first.median * 1000,
                "ms",
                target=1.2,
                noisy=deep.noisy or first.noisy,
            )
        )
        report.add(
            Row(
                f"People list vs admin changelist, first page ({label})",
                first.median * 1000,
                admin_first.median * 1000,
                "ms",
                target=None,
                noisy=first.noisy or admin_first.noisy,
                note="baseline: Django admin",
            )
        )
        report.add(
            Row(
                f"People list vs admin changelist, page at depth {depth:,} ({label})",
                deep.median * 1000,
                admin_deep.median * 1000,
                "ms",
                target=None,
                noisy=deep.noisy or admin_deep.noisy,
                note=f"admin deep/first {admin_deep.median / admin_first.median:.1f}x",
            )
        )
        report.add(
            Row(
                f"SQL statements per page, deep vs first ({label})",
                _statements(client, "/people/", deep_params),
                _statements(client, "/people/", first_params),
                "statements",
                target=1.0,
            )
        )
