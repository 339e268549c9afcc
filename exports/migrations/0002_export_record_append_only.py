"""Make the export history append-only on PostgreSQL.

UPDATE and DELETE are refused, except the erasure unlink: an UPDATE that only
sets contact_id to NULL. TRUNCATE is left alone (no row trigger sees it), so
a test database can still be flushed.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION exports_exportrecord_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.contact_id IS NULL
       AND to_jsonb(NEW) - 'contact_id' = to_jsonb(OLD) - 'contact_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the export history is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER exports_exportrecord_append_only
    BEFORE UPDATE OR DELETE ON exports_exportrecord
    FOR EACH ROW EXECUTE FUNCTION exports_exportrecord_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS exports_exportrecord_append_only ON exports_exportrecord;
DROP FUNCTION IF EXISTS exports_exportrecord_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters, so the "%" in RAISE is not read as a placeholder.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("exports", "0001_export_record")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
