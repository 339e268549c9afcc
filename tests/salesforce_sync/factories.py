"""Helpers that put the same people on both sides: locally and in the stand-in."""

from contacts.models import Contact
from tests.factories import ContactFactory
from unsubscribes.choices import Channel
from unsubscribes.services import contacts_bulk_unsubscribe


def linked_contacts(standin, count: int, *, sobject: str = "Contact") -> list[Contact]:
    """Create `count` contacts, each linked to its own Salesforce record."""
    add = standin.store.add_contact if sobject == "Contact" else standin.store.add_lead
    contacts = []
    for _ in range(count):
        contact = ContactFactory.build()
        extra = {"Company": "Acme"} if sobject == "Lead" else {}
        contact.salesforce_id = add(Email=contact.email, LastName="Person", **extra)
        contacts.append(contact)
    return Contact.objects.bulk_create(contacts)


def unsubscribe(contacts, channel: str = Channel.USER) -> int:
    """Unsubscribe contacts through the real unsubscribe service."""
    return contacts_bulk_unsubscribe(
        contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]),
        channel=channel,
        actor=None,
        actor_name="Test",
    )


def opted_out(standin, contacts) -> list[bool]:
    """Return each contact's opt-out value as the stand-in holds it."""
    return [standin.store.get(c.salesforce_id)["HasOptedOutOfEmail"] for c in contacts]


def forget_requests(standin) -> None:
    """Zero the stand-in's request counts and log, keeping its records."""
    standin.api.reset()
