"""Factories for the suite's model instances."""

import factory

from contacts.models import Contact


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    title = factory.Faker("job")
    email = factory.Sequence(lambda n: f"person{n}@example.com")


def contacts_in_bulk(count: int, **fields) -> list[Contact]:
    """Create `count` contacts with one INSERT, for tests that need many rows."""
    return Contact.objects.bulk_create(ContactFactory.build_batch(count, **fields))
