"""Model helpers that the raw SQL paths rely on."""

import pytest

from contacts.models import Contact, column_name


def test_column_name_gives_a_fields_database_column():
    assert column_name(Contact, "salesforce_id") == "salesforce_id"
    assert column_name(Contact, "id") == "id"


def test_column_name_refuses_a_reverse_relation_with_no_column():
    # Compliance history points at the contact; the contact has no such column.
    with pytest.raises(ValueError, match="has no column of its own"):
        column_name(Contact, "compliance_changes")
