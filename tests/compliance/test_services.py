"""Compliance writes: one contact, many contacts, and their history."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.models import Channel, ComplianceChange
from compliance.rules import PURPOSE_MAX_LENGTH
from compliance.services import (
    ERASED,
    StaleEdit,
    compliance_bulk_update,
    compliance_history_redact,
    compliance_update,
)
from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PURPOSE = "Sending product updates and event invitations by email."
CONSENT = {
    "permission_type": "consent",
    "consent_date": TODAY,
    "processing_purpose": PURPOSE,
}


def history(contact) -> list[tuple[str, str, str, str]]:
    return list(
        ComplianceChange.objects.filter(contact=contact)
        .order_by("id")
        .values_list("channel", "field", "old_value", "new_value")
    )


def snapshot(contact) -> dict:
    return Contact.objects.filter(pk=contact.pk).values().get()


def test_each_changed_field_gets_one_history_row(sales_rep):
    contact = ContactFactory()

    updated = compliance_update(
        contact_id=contact.pk, changes=CONSENT, channel=Channel.CARD, actor=sales_rep
    )

    assert updated.permission_type == "consent"
    assert updated.compliance_version == 1
    assert history(contact) == [
        ("card", "permission_type", "not_set", "consent"),
        ("card", "consent_date", "", TODAY.isoformat()),
        ("card", "processing_purpose", "", PURPOSE),
    ]
    row = ComplianceChange.objects.filter(contact=contact).first()
    assert (row.actor, row.actor_name) == (sales_rep, "rep")


@pytest.mark.parametrize("channel", Channel.values)
def test_every_channel_is_recorded_as_given(channel, sales_rep):
    contact = ContactFactory()

    compliance_update(
        contact_id=contact.pk,
        changes={"source_type": "import"},
        channel=channel,
        actor=sales_rep,
    )

    assert history(contact) == [(channel, "source_type", "not_set", "import")]


def test_a_system_process_is_recorded_by_name():
    contact = ContactFactory()

    compliance_update(
        contact_id=contact.pk,
        changes={"source_type": "crm_sync"},
        channel=Channel.SALESFORCE_SYNC,
        actor_name="salesforce-sync",
    )

    row = ComplianceChange.objects.get(contact=contact)
    assert (row.actor, row.actor_name) == (None, "salesforce-sync")


def test_a_change_needs_an_actor_and_a_known_channel():
    contact = ContactFactory()

    with pytest.raises(ValueError, match="actor"):
        compliance_update(contact_id=contact.pk, changes={}, channel=Channel.CARD)
    with pytest.raises(ValueError, match="channel"):
        compliance_update(
            contact_id=contact.pk, changes={}, channel="carrier pigeon", actor_name="x"
        )


def test_nothing_changed_writes_no_row_and_keeps_the_version(sales_rep):
    contact = ContactFactory(permission_type="legitimate_interest")

    compliance_update(
        contact_id=contact.pk,
        changes={"permission_type": "legitimate_interest"},
        channel=Channel.CARD,
        actor=sales_rep,
    )

    assert history(contact) == []
    assert snapshot(contact)["compliance_version"] == 0


def test_switching_away_from_consent_clears_it_and_the_history_keeps_it(sales_rep):
    contact = ContactFactory(permission_type="consent", consent_date=TODAY)
    Contact.objects.filter(pk=contact.pk).update(processing_purpose=PURPOSE)

    updated = compliance_update(
        contact_id=contact.pk,
        changes={"permission_type": "legitimate_interest"},
        channel=Channel.CARD,
        actor=sales_rep,
    )

    assert (updated.consent_date, updated.processing_purpose) == (None, "")
    assert history(contact) == [
        ("card", "permission_type", "consent", "legitimate_interest"),
        ("card", "consent_date", TODAY.isoformat(), ""),
        ("card", "processing_purpose", PURPOSE, ""),
    ]


def test_leaving_other_clears_its_description(sales_rep):
    contact = ContactFactory(
        permission_type="other", permission_type_description="Existing customer."
    )

    updated = compliance_update(
        contact_id=contact.pk,
        changes={"permission_type": "contract"},
        channel=Channel.CARD,
        actor=sales_rep,
    )

    assert updated.permission_type_description == ""
    assert ("card", "permission_type_description", "Existing customer.", "") in (
        history(contact)
    )


def test_a_stale_version_is_refused_and_nothing_is_written(sales_rep):
    contact = ContactFactory()
    compliance_update(
        contact_id=contact.pk,
        changes={"source_type": "import"},
        channel=Channel.CARD,
        actor=sales_rep,
        expected_version=0,
    )
    before = snapshot(contact)

    with pytest.raises(StaleEdit) as caught:
        compliance_update(
            contact_id=contact.pk,
            changes={"source_type": "crm_sync"},
            channel=Channel.CARD,
            actor=sales_rep,
            expected_version=0,
        )

    assert caught.value.contact.source_type == "import"
    assert snapshot(contact) == before
    assert len(history(contact)) == 1


BAD_CHANGES = st.one_of(
    st.fixed_dictionaries(
        {
            "permission_type": st.just("consent"),
            "consent_date": st.one_of(
                st.dates(min_value=TODAY + datetime.timedelta(days=1)),
                st.none(),
                st.integers(),
                st.text(max_size=12).filter(lambda s: not s[:1].isdigit()),
            ),
            "processing_purpose": st.just(PURPOSE),
        }
    ),
    st.fixed_dictionaries(
        {
            "permission_type": st.just("consent"),
            "consent_date": st.just(TODAY),
            "processing_purpose": st.one_of(
                st.text(max_size=9),
                st.text(
                    min_size=PURPOSE_MAX_LENGTH + 1, max_size=PURPOSE_MAX_LENGTH + 9
                ),
                st.just("A purpose with a NUL \x00 in it"),
                st.integers(),
                st.none(),
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "source_type": st.sampled_from(["other", "Other", "", "manual", "x" * 99]),
            "source_type_description": st.one_of(
                st.just(""), st.just("  "), st.integers(), st.text(min_size=2001)
            ),
        }
    ),
    st.fixed_dictionaries(
        {"permission_type": st.one_of(st.text(max_size=40), st.integers(), st.none())}
    ).filter(lambda d: d["permission_type"] not in ("not_set", "legitimate_interest")),
)


# The database fixture is shared by the examples on purpose: every example must
# leave the contact exactly as it was, which the test asserts.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=BAD_CHANGES)
def test_bad_values_are_a_field_error_and_nothing_is_saved(changes, sales_rep):
    contact, _ = Contact.objects.get_or_create(
        email="bad-values@example.com",
        defaults={"permission_type": "legitimate_interest"},
    )
    before = snapshot(contact)

    with pytest.raises(ValidationError) as caught:
        compliance_update(
            contact_id=contact.pk, changes=changes, channel="card", actor=sales_rep
        )

    assert set(caught.value.message_dict) <= set(changes)
    assert snapshot(contact) == before
    assert history(contact) == []


class TestBulkUpdate:
    def test_it_changes_only_contacts_that_differ(self, sales_rep):
        already = ContactFactory.create_batch(2, permission_type="legitimate_interest")
        others = ContactFactory.create_batch(3)

        changed = compliance_bulk_update(
            contacts=Contact.objects.all(),
            changes={"permission_type": "legitimate_interest"},
            channel=Channel.BULK,
            actor=sales_rep,
        )

        assert changed == 3
        for contact in already:
            assert history(contact) == []
            assert snapshot(contact)["compliance_version"] == 0
        for contact in others:
            assert history(contact) == [
                ("bulk", "permission_type", "not_set", "legitimate_interest")
            ]
            assert snapshot(contact)["compliance_version"] == 1
        assert set(ComplianceChange.objects.values_list("actor_id", "actor_name")) == {
            (sales_rep.pk, "rep")
        }

    def test_it_writes_consent_with_its_fields_and_clears_what_does_not_apply(
        self, sales_rep
    ):
        other = ContactFactory(
            permission_type="other", permission_type_description="Partner."
        )

        compliance_bulk_update(
            contacts=Contact.objects.all(),
            changes=CONSENT,
            channel=Channel.BULK,
            actor=sales_rep,
        )

        assert snapshot(other)["permission_type_description"] == ""
        assert history(other) == [
            ("bulk", "permission_type", "other", "consent"),
            ("bulk", "consent_date", "", TODAY.isoformat()),
            ("bulk", "processing_purpose", "", PURPOSE),
            ("bulk", "permission_type_description", "Partner.", ""),
        ]

    def test_it_leaves_other_field_groups_alone(self, sales_rep):
        contact = ContactFactory(permission_type="consent", consent_date=TODAY)

        compliance_bulk_update(
            contacts=Contact.objects.all(),
            changes={"source_type": "other", "source_type_description": "Fair."},
            channel=Channel.BULK,
            actor=sales_rep,
        )

        row = snapshot(contact)
        assert (row["permission_type"], row["consent_date"]) == ("consent", TODAY)
        assert [field for _, field, _, _ in history(contact)] == [
            "source_type",
            "source_type_description",
        ]

    def test_it_applies_the_rules_and_writes_nothing_on_error(self, sales_rep):
        ContactFactory.create_batch(3)

        with pytest.raises(ValidationError) as caught:
            compliance_bulk_update(
                contacts=Contact.objects.all(),
                changes={"permission_type": "consent", "processing_purpose": PURPOSE},
                channel=Channel.BULK,
                actor=sales_rep,
            )

        assert set(caught.value.message_dict) == {"consent_date"}
        assert not Contact.objects.exclude(permission_type="not_set").exists()
        assert not ComplianceChange.objects.exists()

    def test_a_dependent_field_alone_is_not_a_bulk_change(self, sales_rep):
        with pytest.raises(ValidationError) as caught:
            compliance_bulk_update(
                contacts=Contact.objects.all(),
                changes={"processing_purpose": PURPOSE},
                channel=Channel.BULK,
                actor=sales_rep,
            )

        assert set(caught.value.message_dict) == {"permission_type"}

    def test_it_walks_every_batch_of_a_filtered_selection(self, sales_rep):
        chosen = ContactFactory.create_batch(7, company="Nordlicht GmbH")
        untouched = ContactFactory.create_batch(4, company="Helsinki Data Oy")

        changed = compliance_bulk_update(
            contacts=Contact.objects.filter(company="Nordlicht GmbH"),
            changes={"source_type": "import"},
            channel=Channel.IMPORT,
            actor=sales_rep,
            batch_size=3,
        )

        assert changed == 7
        assert {snapshot(c)["source_type"] for c in chosen} == {"import"}
        assert {snapshot(c)["source_type"] for c in untouched} == {"not_set"}
        assert ComplianceChange.objects.count() == 7


def test_bulk_updates_are_set_based_whatever_the_size(sales_rep):
    counts = []
    for size in (10, 200):
        ContactFactory.create_batch(size, company=f"Size {size}")
        with CaptureQueriesContext(connection) as queries:
            compliance_bulk_update(
                contacts=Contact.objects.filter(company=f"Size {size}"),
                changes={"permission_type": "public_interest"},
                channel=Channel.BULK,
                actor=sales_rep,
            )
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert ComplianceChange.objects.count() == 210


class TestRedaction:
    def test_erased_contacts_keep_no_personal_values_in_the_history(self, sales_rep):
        erased, kept = ContactFactory.create_batch(2)
        for contact in (erased, kept):
            compliance_update(
                contact_id=contact.pk, changes=CONSENT, channel="card", actor=sales_rep
            )
            compliance_update(
                contact_id=contact.pk,
                changes={"source_type": "other", "source_type_description": "Fair."},
                channel="card",
                actor=sales_rep,
            )
        erased_rows = list(
            ComplianceChange.objects.filter(contact=erased).values_list("pk", flat=True)
        )

        compliance_history_redact(contact_ids=[erased.pk])

        rows = ComplianceChange.objects.filter(pk__in=erased_rows).order_by("pk")
        assert {row.contact_id for row in rows} == {None}
        assert [(r.field, r.old_value, r.new_value) for r in rows] == [
            ("permission_type", "not_set", "consent"),
            ("consent_date", "", TODAY.isoformat()),
            ("processing_purpose", "", ERASED),
            ("source_type", "not_set", "other"),
            ("source_type_description", "", ERASED),
        ]
        assert ("card", "processing_purpose", "", PURPOSE) in history(kept)

    def test_an_erased_contact_can_then_be_deleted(self, sales_rep):
        contact = ContactFactory()
        compliance_update(
            contact_id=contact.pk, changes=CONSENT, channel="card", actor=sales_rep
        )

        compliance_history_redact(contact_ids=[contact.pk])
        contact.delete()

        assert ComplianceChange.objects.filter(contact=None).count() == 3

    def test_a_contact_with_history_cannot_be_deleted_around_erasure(self, sales_rep):
        contact = ContactFactory()
        compliance_update(
            contact_id=contact.pk, changes=CONSENT, channel="card", actor=sales_rep
        )

        contact_id = contact.pk

        def delete_and_check():
            with transaction.atomic():
                contact.delete()
                connection.check_constraints()

        with pytest.raises(IntegrityError):
            delete_and_check()

        assert ComplianceChange.objects.filter(contact_id=contact_id).count() == 3
