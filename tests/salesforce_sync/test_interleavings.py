"""Any order of local and Salesforce changes ends where opt-out wins.

Hypothesis draws sequences of: a local unsubscribe, an Admin resubscribe with
proof, an opt-out set or cleared in Salesforce, a relay of the outbox and a
full sync. After the sequence, two syncs settle things; then:

* the contact's history holds exactly the resubscribes the Admin made, and a
  subscribed contact's latest history row is one of them: no resubscribe that
  nobody with proof asked for;
* an opt-out newer than the Admin's last resubscribe (made locally, or made
  in Salesforce and not cleared there since) leaves the contact unsubscribed;
* both sides agree, and the second settling sync changed nothing.
"""

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from contacts.models import Contact
from salesforce_sync.models import RunTrigger
from salesforce_sync.services import sync_run
from tests.factories import ContactFactory
from unsubscribes.choices import Action, Channel
from unsubscribes.services import (
    ConsentProof,
    contact_resubscribe,
    contact_unsubscribe,
)

pytestmark = pytest.mark.django_db

STEPS = ("unsubscribe", "resubscribe", "sf_opt_out", "sf_opt_in", "relay", "sync")
PROOF = ConsentProof(
    consent_date=None,
    processing_purpose="Monthly product newsletter",
    consent_obtained="Signed form at the trade fair",
    evidence_note="Form 12, scanned",
)
_emails = itertools.count()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(st.sampled_from(STEPS), max_size=8))
# Orders that once went wrong, or easily could: a resubscribe relayed over a
# newer Salesforce opt-out; a Salesforce opt-out older than the resubscribe;
# an opt-out cleared in Salesforce while the local one stands.
@example(steps=["unsubscribe", "resubscribe", "sf_opt_out", "relay"])
@example(steps=["sf_opt_out", "sync", "resubscribe", "sf_opt_in", "sf_opt_out"])
@example(steps=["sf_opt_out", "unsubscribe", "resubscribe", "relay"])
@example(steps=["unsubscribe", "relay", "sf_opt_in", "sync"])
def test_no_order_of_changes_ends_in_an_unasked_resubscribe(
    salesforce, admin_user, steps
):
    contact = ContactFactory(email=f"interleaving{next(_emails)}@example.com")
    record_id = salesforce.store.add_contact(Email=contact.email, LastName="Person")
    Contact.objects.filter(pk=contact.pk).update(salesforce_id=record_id)

    def sf_value() -> bool:
        return salesforce.store.get(record_id)["HasOptedOutOfEmail"]

    resubscribes = 0
    last_resubscribe = last_local_opt_out = last_sf_opt_out = last_sf_opt_in = -1
    for step_number, step in enumerate(steps):
        if step == "unsubscribe":
            if contact_unsubscribe(
                contact_id=contact.pk, channel=Channel.USER, actor_name="Sam"
            ):
                last_local_opt_out = step_number
        elif step == "resubscribe":
            try:
                contact_resubscribe(
                    contact_id=contact.pk,
                    actor=admin_user,
                    proof=ConsentProof(
                        **{**PROOF.__dict__, "consent_date": timezone.localdate()}
                    ),
                )
            except ValidationError:
                continue  # not unsubscribed: nothing to resubscribe
            resubscribes += 1
            last_resubscribe = step_number
        elif step in ("sf_opt_out", "sf_opt_in"):
            value = step == "sf_opt_out"
            salesforce.store.apply_update(record_id, {"HasOptedOutOfEmail": value})
            if value:
                last_sf_opt_out = step_number
            else:
                last_sf_opt_in = step_number
        else:
            sync_run(trigger=RunTrigger.RELAY if step == "relay" else "schedule")
    # An opt-out set in Salesforce after the last resubscribe, and not
    # cleared there since, must win whatever the syncs saw in between.
    standing_sf_opt_out = last_sf_opt_out > max(last_resubscribe, last_sf_opt_in)

    sync_run()
    second = sync_run()

    contact.refresh_from_db()
    history = list(contact.subscription_changes.order_by("changed_at", "id"))
    resubscribe_rows = [h for h in history if h.action == Action.RESUBSCRIBE]
    assert len(resubscribe_rows) == resubscribes
    assert all(
        h.channel == Channel.ADMIN_RESUBSCRIBE and h.actor == admin_user
        for h in resubscribe_rows
    )
    if not contact.is_unsubscribed and history:
        assert history[-1].action == Action.RESUBSCRIBE
    if last_local_opt_out > last_resubscribe or standing_sf_opt_out:
        assert contact.is_unsubscribed
    assert sf_value() == contact.is_unsubscribed
    assert (second.received, second.pushed, second.failed) == (0, 0, 0)
