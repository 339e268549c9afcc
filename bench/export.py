"""Bulk export against PostgreSQL's own COPY, and its memory at two sizes.

Each export runs in a fresh process (bench.export_child) so that its peak
memory is its own. Throughput is compared in rows per second over the same
rows and columns.
"""

import json
import os
import subprocess
import sys

from bench.harness import Report, Row, Timing

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


def _timing(mode: str, limit: int, runs: int, key: str) -> Timing:
    return Timing.of([_child(mode, limit)[key] for _ in range(runs)])


def run(report: Report, *, size: int, runs: int) -> None:
    runs = max(3, runs // 2)
    _child("copy", size)  # warm the table into the cache for both sides

    stream = _timing("stream", size, runs, "seconds")
    copy = _timing("copy", size, runs, "seconds")
    report.add(
        Row(
            f"Bulk export throughput, {size:,} contacts, vs COPY",
            size / stream.median,
            size / copy.median,
            "rows/s",
            target=0.7,
            direction="min",
            noisy=stream.noisy or copy.noisy,
        )
    )

    big_memory = _timing("stream", size, runs, "peak_rss_kib")
    small_memory = _timing("stream", min(SMALL, size), runs, "peak_rss_kib")
    report.add(
        Row(
            f"Bulk export peak memory, {size:,} vs {min(SMALL, size):,} contacts",
            big_memory.median / 1024,
            small_memory.median / 1024,
            "MiB",
            target=1.2,
            noisy=big_memory.noisy or small_memory.noisy,
        )
    )

    first_byte = _timing("http", size, runs, "first_byte_seconds")
    report.add(
        Row(
            f"Bulk export first row over HTTP, {size:,} contacts (target: 1 s)",
            first_byte.median,
            1.0,
            "s",
            target=1.0,
            noisy=first_byte.noisy,
        )
    )
