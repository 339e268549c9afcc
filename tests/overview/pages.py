"""Read the Compliance overview as a person would: its tables, numbers and links."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class GapLink:
    href: str
    text: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return int(self.text[0].replace(",", ""))


class _OverviewParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.gaps: dict[str, GapLink] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._gap: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "data-chart-table" in attributes:
            self._table = attributes["data-chart-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "a" and "data-gap" in attributes:
            self._gap = attributes["data-gap"]
            self.gaps[self._gap] = GapLink(href=attributes["href"])

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "a":
            self._gap = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._gap and data.strip():
            self.gaps[self._gap].text.append(data.strip())


def read_overview(html: str) -> _OverviewParser:
    """Return the page's chart tables (by key, rows of cell texts) and gap links."""
    parser = _OverviewParser()
    parser.feed(html)
    return parser


def number(text: str) -> int:
    return int(text.replace(",", ""))
