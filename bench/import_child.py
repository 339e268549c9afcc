"""One import in a fresh process, so its peak memory is its own.

    python -m bench.import_child ROWS

Writes a CSV of ROWS people (one in ten already a contact, to be updated),
previews it and imports it as the People page does, and prints one JSON line:
rows, preview_seconds, import_seconds, peak_rss_kib, created, updated.
"""

import csv
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import django


def _write_file(rows: int, directory: Path) -> Path:
    from contacts.models import Contact

    existing = list(
        Contact.objects.order_by("id").values_list("email", flat=True)[: rows // 10]
    )
    path = directory / "people.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "company", "title"])
        for index in range(rows):
            email = (
                existing[index]
                if index < len(existing)
                else f"imported.{rows}.{index}@example.org"
            )
            writer.writerow([email, "Ines", f"Import{index}", "Loire SA", "Buyer"])
    return path


def main() -> None:
    rows = int(sys.argv[1])
    media = Path(tempfile.mkdtemp(prefix="bench-media-"))
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesinsight.test_settings")
    django.setup()

    from contacts import importing

    source = _write_file(rows, media)
    (media / "imports").mkdir()
    name = "bench.csv"
    source.rename(media / "imports" / name)

    started = time.perf_counter()
    summary = importing.import_preview(name=name, file_format="csv", actor=None)
    preview_seconds = time.perf_counter() - started

    job = importing.import_job_create(
        name=name, file_format="csv", rows=summary.rows, actor=None
    )
    started = time.perf_counter()
    job = importing.import_job_run(job_id=job.pk)
    import_seconds = time.perf_counter() - started

    print(
        json.dumps(
            {
                "rows": summary.rows,
                "changed": job.changed,
                "state": job.state,
                "preview_seconds": preview_seconds,
                "import_seconds": import_seconds,
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


if __name__ == "__main__":
    main()
