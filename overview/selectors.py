"""Reads of the overview: the newest summary, shaped for the page.

Everything here works from the stored summary alone: the page costs the same
whether the contact base holds ten contacts or a million.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from compliance.models import Channel as ComplianceChannel
from contacts.choices import PermissionType, SourceType
from overview.charts import Label, ShareChart, WeekChart, share_chart, week_chart
from overview.gaps import GAPS
from overview.models import Summary
from overview.services import WEEKS
from salesforce_sync.client import is_configured as sync_is_configured
from unsubscribes.choices import UNSUBSCRIBE_CHANNELS, Action
from unsubscribes.choices import Channel as SubscriptionChannel

# The channels the compliance chart always shows, in this order; any other
# channel (the admin, erasure, ...) joins them only in weeks it was used.
COMPLIANCE_CHANNELS = (
    ComplianceChannel.CARD,
    ComplianceChannel.BULK,
    ComplianceChannel.IMPORT,
    ComplianceChannel.SALESFORCE_SYNC,
)


@dataclass(frozen=True)
class GapFigure:
    key: str
    label: Label
    hint: Label
    count: int
    people_url: str


@dataclass(frozen=True)
class SyncHealth:
    configured: bool
    last_success: datetime.datetime | None
    pending: int
    failed_pushes: int
    failed_runs: int


@dataclass(frozen=True)
class Overview:
    as_of: datetime.datetime
    contacts: int
    permission_types: ShareChart
    source_types: ShareChart
    gaps: list[GapFigure]
    subscriptions: WeekChart
    compliance: WeekChart
    sync: SyncHealth | None


def latest_summary() -> Summary | None:
    """Return the newest summary, or None before the first refresh."""
    return Summary.objects.order_by("-computed_at", "-id").first()


def _weeks(first: str) -> list[datetime.date]:
    start = datetime.date.fromisoformat(first)
    return [start + datetime.timedelta(weeks=i) for i in range(WEEKS)]


def _per_week(
    weeks: list[datetime.date], rows: list[dict[str, Any]], key
) -> dict[str, list[int]]:
    index = {week.isoformat(): i for i, week in enumerate(weeks)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(weeks))
    for row in rows:
        if row["week"] in index:
            counts[key(row)][index[row["week"]]] += row["count"]
    return counts


def _subscription_chart(figures: dict[str, Any], weeks) -> WeekChart:
    def series_of(row):
        return row["channel"] if row["action"] == Action.UNSUBSCRIBE else "resubscribe"

    counts = _per_week(weeks, figures["subscriptions"], series_of)
    unsubscribe_channels = [c for c in SubscriptionChannel if c in UNSUBSCRIBE_CHANNELS]
    series = [
        (channel.value, channel.label, counts[channel.value])
        for channel in unsubscribe_channels
    ]
    series.append(("resubscribe", _("Resubscribes"), counts["resubscribe"]))
    return week_chart(
        key="subscriptions",
        title=_("Unsubscribes and resubscribes per week, by channel"),
        weeks=weeks,
        series=series,
    )


def _compliance_chart(figures: dict[str, Any], weeks) -> WeekChart:
    counts = _per_week(weeks, figures["compliance"], lambda row: row["channel"])
    shown = [
        channel
        for channel in ComplianceChannel
        if channel in COMPLIANCE_CHANNELS or any(counts.get(channel.value, ()))
    ]
    return week_chart(
        key="compliance",
        title=_("Compliance changes per week, by channel"),
        weeks=weeks,
        series=[(c.value, c.label, counts[c.value]) for c in shown],
    )


def _sync_health(figures: dict[str, Any]) -> SyncHealth | None:
    # A summary computed before the sync existed has no such figures.
    sync = figures.get("sync")
    if sync is None:
        return None
    last = sync["last_success"]
    return SyncHealth(
        configured=sync_is_configured(),
        last_success=datetime.datetime.fromisoformat(last) if last else None,
        pending=sync["pending"],
        failed_pushes=sync["failed_pushes"],
        failed_runs=sync["failed_runs"],
    )


def overview_for(summary: Summary) -> Overview:
    """Shape a summary's figures into the page's charts, gaps and links."""
    figures = summary.figures
    weeks = _weeks(figures["first_week"])
    return Overview(
        as_of=summary.computed_at,
        contacts=figures["contacts"],
        permission_types=share_chart(
            key="permission-types",
            title=_("Contacts by Permission type"),
            category=_("Permission type"),
            counts=[
                (choice.label, figures["permission_types"].get(choice.value, 0))
                for choice in PermissionType
            ],
        ),
        source_types=share_chart(
            key="source-types",
            title=_("Contacts by Source type"),
            category=_("Source type"),
            counts=[
                (choice.label, figures["source_types"].get(choice.value, 0))
                for choice in SourceType
            ],
        ),
        gaps=[
            GapFigure(
                key=gap.key,
                label=gap.label,
                hint=gap.hint,
                count=figures["gaps"].get(gap.key, 0),
                people_url=gap.people_url,
            )
            for gap in GAPS
            if gap.key in figures["gaps"]
        ],
        subscriptions=_subscription_chart(figures, weeks),
        compliance=_compliance_chart(figures, weeks),
        sync=_sync_health(figures),
    )
