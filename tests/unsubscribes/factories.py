"""Factories for the unsubscribes tests."""

import factory
from django.utils import timezone

from tests.factories import ContactFactory
from unsubscribes.choices import Action, Channel
from unsubscribes.models import SentEmail, SubscriptionChange


class SubscriptionChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionChange

    contact = factory.SubFactory(ContactFactory)
    changed_at = factory.LazyFunction(timezone.now)
    action = Action.UNSUBSCRIBE
    channel = Channel.USER
    actor_name = "rep"


class SentEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SentEmail

    contact = factory.SubFactory(ContactFactory)
    subject = "Hello"
    sent_at = factory.LazyFunction(timezone.now)
    sender_name = "rep"
