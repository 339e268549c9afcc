"""Run every benchmark against PostgreSQL and print one table.

    BENCH_SIZE=10000 make bench        # quick mode, a few minutes
    make bench                         # 1,000,000 contacts

The database is BENCH_DATABASE_URL (default: a `salesinsight_bench` database on
the local PostgreSQL); it is created, migrated and seeded as needed, and its
contacts are replaced. Results go to stdout and bench/results/*.json.
"""

import importlib
import os
import sys
import time

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/salesinsight_bench"

# Each module exposes run(report, size, runs) and adds its rows to the report.
BENCHMARKS = (
    "bench.people_list",
    "bench.bulk_update",
    "bench.export",
    "bench.unsubscribe_post",
    "bench.salesforce_push",
    "bench.overview",
    "bench.import_rows",
)


def _configure() -> tuple[int, int, list[str]]:
    size = int(os.environ.get("BENCH_SIZE", "1000000"))
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    only = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "make bench measures PostgreSQL: BENCH_DATABASE_URL must be postgres://"
        )
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesinsight.test_settings")
    # The benchmark measures the code, not the console: keep logs to warnings.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return size, runs, only


def _create_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def main() -> None:
    size, runs, only = _configure()
    _create_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command

    from bench import seed
    from bench.harness import Report

    call_command("migrate", verbosity=0)
    if seed.seeded_size() != size:
        started = time.perf_counter()
        seed.seed(size)
        print(f"Seeded {size:,} contacts in {time.perf_counter() - started:.1f} s")

    report = Report(size=size)
    for module_name in BENCHMARKS:
        if only and module_name.rsplit(".", 1)[1] not in only:
            continue
        importlib.import_module(module_name).run(report, size=size, runs=runs)

    print()
    print(report.table())
    print(f"\nWritten to {report.write()}")
    failed = [row.name for row in report.rows if not row.met]
    if failed:
        print(f"Targets not met: {', '.join(failed)}")


if __name__ == "__main__":
    main()
