"""Timing, medians, and the one table every benchmark reports into."""

import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# A spread (interquartile range over median; the whole range, fastest to
# slowest, for fewer than four runs) above this is reported as noisy: the
# ratio is still printed, but should not be trusted on its own.
NOISY_SPREAD = 0.15


@dataclass
class Timing:
    """The median of several timed runs, and how much they disagreed."""

    median: float
    runs: list[float]

    @property
    def spread(self) -> float:
        if len(self.runs) < 2 or self.median == 0:
            return 0.0
        if len(self.runs) < 4:
            # Quartiles of two or three runs would mean little; the longer
            # benchmarks take three, so their whole range is what is known.
            return (max(self.runs) - min(self.runs)) / self.median
        quartiles = statistics.quantiles(self.runs, n=4)
        return (quartiles[2] - quartiles[0]) / self.median

    @classmethod
    def of(cls, runs: list[float]) -> "Timing":
        return cls(median=statistics.median(runs), runs=list(runs))

    @property
    def noisy(self) -> bool:
        return self.spread > NOISY_SPREAD


def measure(action: Callable[[], object], *, runs: int, warmup: int = 1) -> Timing:
    """Time `action` `runs` times after `warmup` untimed calls."""
    return measure_side_by_side([action], runs=runs, warmup=warmup)[0]


def measure_side_by_side(
    actions: Sequence[Callable[[], object]], *, runs: int, warmup: int = 1
) -> list[Timing]:
    """Time each of `actions` `runs` times, taking turns; one Timing each.

    A measurement and its baseline taken in turns see the same machine: on
    a shared one, a burst of other work (a checkpoint, a neighbour's job)
    slows both a little rather than one of them a lot.
    """
    for _ in range(warmup):
        for action in actions:
            action()
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, timings in zip(actions, samples, strict=True):
            started = time.perf_counter()
            action()
            timings.append(time.perf_counter() - started)
    return [Timing.of(timings) for timings in samples]


@dataclass
class Row:
    """One line of the report: a measurement set against its baseline."""

    name: str
    measurement: float
    baseline: float
    unit: str
    # "max": the ratio measurement/baseline must stay at or below `target`;
    # "min": it must reach at least `target`; None: shown for comparison only.
    target: float | None
    direction: str = "max"
    noisy: bool = False
    note: str = ""
    ratio: float = field(init=False)
    met: bool = field(init=False)

    def __post_init__(self) -> None:
        self.ratio = self.measurement / self.baseline if self.baseline else float("inf")
        if self.target is None:
            self.met = True
        elif self.direction == "max":
            self.met = self.ratio <= self.target
        else:
            self.met = self.ratio >= self.target


@dataclass
class Report:
    size: int
    rows: list[Row] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(render_row(row), flush=True)

    def write(self) -> Path:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = self.started_at[:19].replace(":", "-")
        path = RESULTS_DIR / f"bench-{self.size}-{stamp}.json"
        document = {
            "size": self.size,
            "started_at": self.started_at,
            "machine": machine(),
            "rows": [asdict(row) for row in self.rows],
        }
        path.write_text(json.dumps(document, indent=2))
        return path

    def table(self) -> str:
        lines = [HEADER, "|" + "---|" * 8]
        lines += [render_row(row) for row in self.rows]
        return "\n".join(lines)


HEADER = "| benchmark | measured | baseline | unit | ratio | target | met | note |"


def render_row(row: Row) -> str:
    sign = "≤" if row.direction == "max" else "≥"
    target = "—" if row.target is None else f"{sign} {row.target:g}"
    met = "—" if row.target is None else ("yes" if row.met else "NO")
    note = ("noisy; " if row.noisy else "") + row.note
    return (
        f"| {row.name} | {row.measurement:.4g} | {row.baseline:.4g} | {row.unit} "
        f"| {row.ratio:.2f} | {target} | {met} "
        f"| {note.strip('; ')} |"
    )


def machine() -> dict:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
    }


def bench_admin():
    """Return the superuser the benchmarks browse as, creating it once."""
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return user
