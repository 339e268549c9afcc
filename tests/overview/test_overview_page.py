"""The Compliance overview page: its numbers, links, access and cost."""

import datetime
import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format

from compliance.models import ComplianceChange
from contacts.choices import PermissionType, SourceType
from contacts.models import Contact
from overview.services import summary_refresh
from salesforce_sync.models import OutboxEntry, OutboxStatus, RunStatus, SyncRun
from tests.factories import contacts_in_bulk
from tests.overview.conftest import FIRST_MONDAY
from tests.overview.pages import number, read_overview
from unsubscribes.choices import Action
from unsubscribes.models import SubscriptionChange

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("overview:overview")
WEEKS = [FIRST_MONDAY + datetime.timedelta(weeks=i) for i in range(26)]


def monday(moment: datetime.datetime) -> datetime.date:
    day = moment.date()
    return day - datetime.timedelta(days=day.weekday())


def column(table: list[list[str]], header: str) -> list[int]:
    """Return a week table's column by its header, one number per week."""
    index = table[0].index(header)
    return [number(row[index]) for row in table[1:-1]]


def test_contacts_by_permission_and_source_type_match_the_database(rep_client, seeded):
    contacts = list(Contact.objects.values("permission_type", "source_type"))
    by_permission = Counter(c["permission_type"] for c in contacts)
    by_source = Counter(c["source_type"] for c in contacts)
    summary_refresh()

    page = read_overview(rep_client.get(OVERVIEW).content.decode())

    for key, choices, counts in (
        ("permission-types", PermissionType, by_permission),
        ("source-types", SourceType, by_source),
    ):
        rows = page.tables[key]
        shown = {row[0]: (number(row[1]), row[2]) for row in rows[1:-1]}
        assert shown == {
            choice.label: (
                counts[choice.value],
                f"{100 * counts[choice.value] / len(contacts):.1f}%",
            )
            for choice in choices
        }
        assert rows[-1][:2] == ["Total", str(len(contacts))]


def test_each_gap_count_matches_the_contacts_it_describes(rep_client, seeded):
    today = seeded.date()
    contacts = list(Contact.objects.all())
    consent = [c for c in contacts if c.permission_type == PermissionType.CONSENT]
    expected = {
        "no_permission_type": sum(
            c.permission_type == PermissionType.NOT_SET for c in contacts
        ),
        "consent_missing_evidence": sum(
            c.consent_date is None or not c.processing_purpose for c in consent
        ),
        "consent_expired": sum(
            c.consent_expires_on is not None and c.consent_expires_on < today
            for c in consent
        ),
    }
    assert expected == {
        "no_permission_type": 3,
        "consent_missing_evidence": 2,
        "consent_expired": 2,
    }
    summary_refresh()

    page = read_overview(rep_client.get(OVERVIEW).content.decode())

    assert {key: link.count for key, link in page.gaps.items()} == expected


def test_each_gap_links_to_a_people_list_of_the_same_count(rep_client, seeded):
    summary_refresh()
    page = read_overview(rep_client.get(OVERVIEW).content.decode())
    assert page.gaps

    for key, link in page.gaps.items():
        assert link.href.startswith(reverse("contacts:people") + "?")
        listing = rep_client.get(link.href).context["listing"]
        assert listing.filterset.is_valid(), key
        assert listing.total == link.count, key
        assert len(listing.page.rows) == link.count, key


def test_unsubscribes_and_resubscribes_are_counted_per_week_by_channel(
    rep_client, seeded
):
    changes = SubscriptionChange.objects.values_list("changed_at", "action", "channel")
    expected: Counter = Counter()
    for changed_at, action, channel in changes:
        series = channel if action == Action.UNSUBSCRIBE else "resubscribe"
        expected[(monday(changed_at), series)] += 1
    summary_refresh()

    table = read_overview(rep_client.get(OVERVIEW).content.decode()).tables[
        "subscriptions"
    ]

    assert len(table) == 1 + 26 + 1
    assert table[1][0] == date_format(WEEKS[0], "SHORT_DATE_FORMAT")
    for header, series in (
        ("One-click", "one_click"),
        ("Unsubscribe link", "unsubscribe_link"),
        ("By a user", "user"),
        ("Bulk action", "bulk"),
        ("Salesforce sync", "salesforce_sync"),
        ("Resubscribes", "resubscribe"),
    ):
        assert column(table, header) == [expected[(w, series)] for w in WEEKS], header
    assert column(table, "One-click")[-1] == 2
    assert column(table, "Bulk action")[0] == 1
    # The Salesforce opt-out the day before the six months is left out.
    assert sum(column(table, "Salesforce sync")) == 0


def test_compliance_changes_count_each_change_once_per_week_by_channel(
    rep_client, seeded
):
    rows = ComplianceChange.objects.values_list("contact_id", "changed_at", "channel")
    events = {(contact, moment, channel) for contact, moment, channel in rows}
    expected = Counter((monday(moment), channel) for _, moment, channel in events)
    summary_refresh()

    table = read_overview(rep_client.get(OVERVIEW).content.decode()).tables[
        "compliance"
    ]

    assert table[0][1:] == [
        "Compliance card",
        "Bulk action",
        "Import",
        "Salesforce sync",
        "Django admin",
        "Total",
    ]
    for header, channel in (
        ("Compliance card", "card"),
        ("Bulk action", "bulk"),
        ("Import", "import"),
        ("Salesforce sync", "salesforce_sync"),
        ("Django admin", "admin"),
    ):
        assert column(table, header) == [expected[(w, channel)] for w in WEEKS], header
    # The card edit wrote three history rows: it is one change.
    assert sum(column(table, "Compliance card")) == 1
    assert sum(column(table, "Bulk action")) == 2


def test_the_page_says_when_its_figures_were_computed(rep_client, seeded):
    summary_refresh()

    html = rep_client.get(OVERVIEW).content.decode()

    assert "As of March 18, 2026, noon (UTC)." in html
    assert "10 contacts in all." in html


def test_before_the_first_refresh_the_page_says_so(rep_client):
    html = rep_client.get(OVERVIEW).content.decode()

    assert "The figures have not been computed yet." in html
    assert "data-as-of" not in html


def test_charts_are_accessible_svg_with_their_numbers_as_tables(rep_client, seeded):
    summary_refresh()

    html = rep_client.get(OVERVIEW).content.decode()

    for key in ("permission-types", "source-types", "subscriptions", "compliance"):
        assert f'role="img" aria-labelledby="{key}-title {key}-desc"' in html, key
        assert f'<title id="{key}-title">' in html
        assert f'<desc id="{key}-desc">' in html
        assert f'data-chart-table="{key}"' in html
    assert "Consent: 5 (50.0%)" in html
    assert "style=" not in html
    assert "<script>" not in html


def test_the_page_reads_only_the_summary_whatever_the_number_of_contacts(
    rep_client, seeded
):
    summary_refresh()
    rep_client.get(OVERVIEW)
    with CaptureQueriesContext(connection) as small:
        assert rep_client.get(OVERVIEW).status_code == 200

    contacts_in_bulk(500, permission_type=PermissionType.LEGITIMATE_INTEREST)
    summary_refresh()
    with CaptureQueriesContext(connection) as large:
        assert rep_client.get(OVERVIEW).status_code == 200

    assert len(large) == len(small)
    assert not any("contacts_contact" in query["sql"] for query in large)


@pytest.mark.parametrize("user", ["sales_rep", "admin_user"])
def test_both_roles_see_the_page_and_its_navigation_link(client, user, request):
    client.force_login(request.getfixturevalue(user))

    response = client.get(reverse("contacts:people"))

    assert f'href="{OVERVIEW}"' in response.content.decode()
    assert client.get(OVERVIEW).status_code == 200


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(OVERVIEW)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_role_is_refused(outsider_client):
    assert outsider_client.get(OVERVIEW).status_code == 403
    assert outsider_client.post(reverse("overview:refresh")).status_code == 403
    assert f'href="{OVERVIEW}"' not in outsider_client.get("/").content.decode()


@pytest.fixture
def sync_history(seeded):
    """Runs and outbox rows on both sides of the last 24 hours."""
    now = seeded
    contact = Contact.objects.first()

    def ago(hours: float) -> datetime.datetime:
        return now - datetime.timedelta(hours=hours)

    SyncRun.objects.bulk_create(
        SyncRun(trigger="schedule", status=status, started_at=ago(h), finished_at=end)
        for status, h, end in (
            (RunStatus.SUCCEEDED, 2, ago(1.9)),
            (RunStatus.SUCCEEDED, 72, ago(71.9)),
            (RunStatus.FAILED, 5, ago(4.9)),
            (RunStatus.FAILED, 30, ago(29.9)),
            (RunStatus.RUNNING, 0.1, None),
        )
    )
    OutboxEntry.objects.bulk_create(
        OutboxEntry(
            contact=contact, reason="unsubscribe", status=status, processed_at=at
        )
        for status, at in (
            *[(OutboxStatus.PENDING, None)] * 3,
            *[(OutboxStatus.FAILED, ago(1))] * 2,
            (OutboxStatus.FAILED, ago(48)),
            (OutboxStatus.SENT, ago(1)),
        )
    )
    return now


def test_sync_health_shows_the_last_success_the_outbox_and_recent_failures(
    admin_client, sync_history
):
    day_ago = sync_history - datetime.timedelta(hours=24)
    runs = list(SyncRun.objects.values("status", "started_at", "finished_at"))
    entries = list(OutboxEntry.objects.values("status", "processed_at"))
    last_success = max(r["finished_at"] for r in runs if r["status"] == "succeeded")
    summary_refresh()

    html = admin_client.get(OVERVIEW).content.decode()

    assert f'datetime="{last_success.isoformat()}"' in html
    assert "March 18, 2026, 10:06 a.m." in html
    for key, expected in (
        ("pending", sum(e["status"] == "pending" for e in entries)),
        (
            "failed_pushes",
            sum(
                e["status"] == "failed" and e["processed_at"] >= day_ago
                for e in entries
            ),
        ),
        (
            "failed_runs",
            sum(r["status"] == "failed" and r["started_at"] >= day_ago for r in runs),
        ),
    ):
        assert re.search(rf'data-sync="{key}"[^>]*>{expected}<', html), key
    assert "The Salesforce sync is off" in html
    assert reverse("salesforce_sync:page") in html


def test_sync_health_says_never_before_any_run_and_not_off_once_configured(
    rep_client, seeded, settings
):
    settings.SALESFORCE_USERNAME = "sync@example.com"
    settings.SALESFORCE_PASSWORD = "secret"
    settings.SALESFORCE_SECURITY_TOKEN = "token"
    summary_refresh()

    html = rep_client.get(OVERVIEW).content.decode()

    assert re.search(r'data-sync="last_success">Never<', html)
    assert "The Salesforce sync is off" not in html
    # The sync page is for Admins; a Sales rep sees the figures without the link.
    assert reverse("salesforce_sync:page") not in html
