"""Make the unsubscribe history append-only in the database itself (PostgreSQL).

A statement-level trigger refuses every UPDATE and DELETE on the history table,
whoever runs it: the app, the Django admin, or someone at a psql prompt. The
one exception is erasure: subscription_history_redact() sets the
transaction-local flag `salesinsight.history_redaction` to 'on' while it
unlinks an erased person's rows and blanks their proof, and only UPDATE is let
through then; DELETE never is. TRUNCATE does not fire these triggers, so the
test suite can still empty the table between tests.

SQLite has no such trigger; there the services and a read-only admin are the
only guard.
"""

from django.db import migrations

FORWARDS = """
CREATE FUNCTION unsubscribes_history_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('salesinsight.history_redaction', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'The unsubscribe history is append-only: % refused.', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER unsubscribes_history_append_only
    BEFORE UPDATE OR DELETE ON unsubscribes_subscriptionchange
    FOR EACH STATEMENT EXECUTE FUNCTION unsubscribes_history_refuse_change();
"""

BACKWARDS = """
DROP TRIGGER IF EXISTS unsubscribes_history_append_only
    ON unsubscribes_subscriptionchange;
DROP FUNCTION IF EXISTS unsubscribes_history_refuse_change();
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
    dependencies = [("unsubscribes", "0001_history")]

    operations = [PostgreSQLOnly(FORWARDS, BACKWARDS)]
