"""Geometry of the overview's charts, drawn by templates as accessible SVG.

The server computes every coordinate, so the page needs no script and no
inline style: the templates write these numbers into SVG attributes, and the
colours come from classes in app.css. Each chart also goes out as a table.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise

Label = str | Promise

SERIES_CLASSES = 8

# Share bars: one row per category, a label line above a bar.
SHARE_WIDTH = 420
SHARE_ROW = 44

# Week columns: a plot area inside a 720 x 240 viewBox, axis labels around it.
WEEK_WIDTH = 720
WEEK_HEIGHT = 240
PLOT_LEFT, PLOT_RIGHT = 56, 712
PLOT_TOP, PLOT_BOTTOM = 12, 200
WEEK_LABEL_EVERY = 4


def _share(count: int, total: int) -> Decimal:
    if not total:
        return Decimal(0)
    return (Decimal(count) * 100 / total).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class ShareBar:
    label: Label
    count: int
    share: Decimal
    y: int
    width: float

    @property
    def bar_y(self) -> int:
        return self.y + 20

    @property
    def text_y(self) -> int:
        return self.y + 14


@dataclass(frozen=True)
class ShareChart:
    key: str
    title: Label
    category: Label
    total: int
    bars: list[ShareBar]
    width: int = SHARE_WIDTH

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * SHARE_ROW


def share_chart(
    *, key: str, title: Label, category: Label, counts: list[tuple[Label, int]]
) -> ShareChart:
    """Return a chart of each category's count and share of the total."""
    total = sum(count for _, count in counts)
    bars = [
        ShareBar(
            label=label,
            count=count,
            share=_share(count, total),
            y=index * SHARE_ROW,
            width=round(SHARE_WIDTH * count / total, 1) if total else 0,
        )
        for index, (label, count) in enumerate(counts)
    ]
    return ShareChart(key=key, title=title, category=category, total=total, bars=bars)


@dataclass(frozen=True)
class Series:
    key: str
    label: Label
    counts: list[int]
    css_class: str

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Segment:
    series: Series
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class WeekColumn:
    week: datetime.date
    counts: list[int]
    segments: list[Segment]
    label_x: float
    labelled: bool

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Gridline:
    value: int
    y: float

    @property
    def label_y(self) -> float:
        return round(self.y + 4, 2)


@dataclass(frozen=True)
class WeekChart:
    key: str
    title: Label
    series: list[Series]
    columns: list[WeekColumn]
    gridlines: list[Gridline]
    width: int = WEEK_WIDTH
    height: int = WEEK_HEIGHT
    plot_left: int = PLOT_LEFT
    plot_right: int = PLOT_RIGHT
    plot_bottom: int = PLOT_BOTTOM
    axis_label_x: int = PLOT_LEFT - 6
    week_label_y: int = PLOT_BOTTOM + 18

    @property
    def total(self) -> int:
        return sum(series.total for series in self.series)

    @property
    def first_week(self) -> datetime.date:
        return self.columns[0].week

    @property
    def last_week(self) -> datetime.date:
        return self.columns[-1].week

    @property
    def busiest(self) -> WeekColumn:
        return max(self.columns, key=lambda column: column.total)


def _scale_top(largest: int) -> int:
    """Round the largest column up to a number the axis can label plainly."""
    if largest <= 4:
        return 4
    magnitude = 10 ** (len(str(largest)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= largest and top % 2 == 0:
            return top
    return 10 * magnitude


def week_chart(
    *,
    key: str,
    title: Label,
    weeks: list[datetime.date],
    series: Sequence[tuple[str, Label, list[int]]],
) -> WeekChart:
    """Return stacked columns, one per week, one colour per series."""
    all_series = [
        Series(key=s_key, label=label, counts=counts, css_class=f"series-{index}")
        for index, (s_key, label, counts) in enumerate(series)
    ]
    totals = [sum(s.counts[i] for s in all_series) for i in range(len(weeks))]
    top = _scale_top(max(totals, default=0))
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(1, len(weeks))
    bar = round(slot * 0.7, 2)

    columns = []
    for i, week in enumerate(weeks):
        x = round(PLOT_LEFT + slot * i + (slot - bar) / 2, 2)
        segments, base = [], float(PLOT_BOTTOM)
        for s in all_series:
            count = s.counts[i]
            if not count:
                continue
            height = round(plot_height * count / top, 2)
            base -= height
            segments.append(Segment(s, count, x, round(base, 2), bar, height))
        columns.append(
            WeekColumn(
                week=week,
                counts=[s.counts[i] for s in all_series],
                segments=segments,
                label_x=round(x + bar / 2, 2),
                labelled=i % WEEK_LABEL_EVERY == 0,
            )
        )
    gridlines = [
        Gridline(value=value, y=round(PLOT_BOTTOM - plot_height * value / top, 2))
        for value in (0, top // 2, top)
    ]
    return WeekChart(
        key=key, title=title, series=all_series, columns=columns, gridlines=gridlines
    )
