"""Trigram indexes for the People list's free-text search, on PostgreSQL only.

The search is a case-insensitive substring match (Django's icontains, which
PostgreSQL runs as UPPER(column) LIKE UPPER(pattern)). A GIN index of the
trigrams of UPPER(column) answers that for patterns of three characters or
more without reading the table. SQLite keeps the plain scan: it is the laptop
database, never a million rows.
"""

from django.db import migrations

SEARCHED_COLUMNS = ("first_name", "last_name", "email", "company")


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may
    # create it without being a superuser.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS contact_{column}_trgm_idx "
            f"ON contacts_contact USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS contact_{column}_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_people_list_indexes")]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
