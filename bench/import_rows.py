"""Import of a large file: time, and peak memory against a file ten times smaller.

Memory that stays flat from the small file to the large one shows the import
holds a chunk at a time, not the file. Imports change the contacts, so the
next `make bench` seeds afresh.
"""

import json
import os
import subprocess
import sys

from bench.harness import Report, Row


def _child(rows: int) -> dict:
    result = subprocess.run(  # noqa: S603 # nosec B603 - our own module, fixed args
        [sys.executable, "-m", "bench.import_child", str(rows)],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(report: Report, *, size: int, runs: int) -> None:
    large = 100_000 if size >= 1_000_000 else 10_000
    small = large // 10
    small_result, large_result = _child(small), _child(large)
    if large_result["state"] != "done" or large_result["rows"] != large:
        raise RuntimeError(f"The import did not finish: {large_result}")

    preview, imported = large_result["preview_seconds"], large_result["import_seconds"]
    seconds = preview + imported
    small_seconds = small_result["preview_seconds"] + small_result["import_seconds"]
    report.add(
        Row(
            f"Import of {large:,} rows (preview + import) vs {small:,} rows, per row",
            seconds / large * 1000,
            small_seconds / small * 1000,
            "ms/row",
            target=None,
            note=f"{seconds:.0f} s in all; preview {preview:.0f} s, "
            f"import {imported:.0f} s; "
            f"{large_result['changed']:,} contacts created or updated",
        )
    )
    report.add(
        Row(
            f"Import peak memory, {large:,} vs {small:,} rows",
            large_result["peak_rss_kib"] / 1024,
            small_result["peak_rss_kib"] / 1024,
            "MiB",
            target=1.2,
        )
    )
