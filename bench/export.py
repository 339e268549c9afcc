"""Bulk export against PostgreSQL's own COPY, and its memory at two sizes.

Each export runs in a fresh process (bench.export_child) so that its peak
memory is its own. Throughput is compared in rows per second over the same
rows and columns.
"""

import json
import os
import statistics
import subprocess
import sys

from bench.harness import Report, Row

SMALL = 10_000


def _child(mode: str, limit: int) -> dict:
    result = subprocess.run(  # noqa: S603 # nosec B603 - our own module, fixed args
        [sys.executable, "-m", "bench.export_child", mode, str(limit)],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _median(mode: str, limit: int, runs: int, key: str) -> tuple[float, list[dict]]:
    samples = [_child(mode, limit) for _ in range(runs)]
    return statistics.median(sample[key] for sample in samples), samples


def run(report: Report, *, size: int, runs: int) -> None:
    runs = max(3, runs // 2)
    _child("copy", size)  # warm the table into the cache for both sides

    stream_seconds, _ = _median("stream", size, runs, "seconds")
    copy_seconds, _ = _median("copy", size, runs, "seconds")
    report.add(
        Row(
            f"Bulk export throughput, {size:,} contacts, vs COPY",
            size / stream_seconds,
            size / copy_seconds,
            "rows/s",
            target=0.7,
            direction="min",
        )
    )

    big_memory, _ = _median("stream", size, runs, "peak_rss_kib")
    small_memory, _ = _median("stream", min(SMALL, size), runs, "peak_rss_kib")
    report.add(
        Row(
            f"Bulk export peak memory, {size:,} vs {min(SMALL, size):,} contacts",
            big_memory / 1024,
            small_memory / 1024,
            "MiB",
            target=1.2,
        )
    )

    first_byte, _ = _median("http", size, runs, "first_byte_seconds")
    report.add(
        Row(
            f"Bulk export first row over HTTP, {size:,} contacts (target: 1 s)",
            first_byte,
            1.0,
            "s",
            target=1.0,
        )
    )
