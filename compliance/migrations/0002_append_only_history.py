"""Make the compliance history append-only in the database itself (PostgreSQL).

A statement-level trigger refuses every UPDATE and DELETE on the history table,
whoever runs it: the app, the Django admin, or someone at a psql prompt. The
one exception is erasure: compliance_history_redact() sets the
transaction-local flag `salesinsight.history_redaction` to 'on' while it
unlinks an erased person's rows and blanks their free text, and only UPDATE
is let through then; DELETE never is. TRUNCATE does not fire these triggers,
so the test suite can still empty the table between tests.

SQLite has no such trigger; there the application layer (services and a
read-only admin) is the only guard.
"""

from django.db import migrations

FORWARDS = """
CREATE FUNCTION compliance_history_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('salesinsight.history_redaction', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'The compliance history is append-only: % refused.', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER compliance_history_append_only
    BEFORE UPDATE OR DELETE ON compliance_compliancechange
    FOR EACH STATEMENT EXECUTE FUNCTION compliance_history_refuse_change();
"""

BACKWARDS = """
DROP TRIGGER IF EXISTS compliance_history_append_only ON compliance_compliancechange;
DROP FUNCTION IF EXISTS compliance_history_refuse_change();
"""


class PostgreSQLOnly(migrations.RunSQL):
    """Run the SQL on PostgreSQL and do nothing on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_history")]

    operations = [PostgreSQLOnly(FORWARDS, BACKWARDS)]
