"""Writes of contacts' own fields (compliance fields belong to compliance)."""

import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from contacts import extensions, selectors
from contacts.choices import SourceType
from contacts.models import Contact

logger = logging.getLogger(__name__)

# The fields a person fills in on the contact forms.
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "title",
    "email",
    "phone_number",
    "website",
    "other",
    "facebook",
    "twitter",
    "linkedin",
    "salesforce_id",
)

DUPLICATE_EMAIL = _("A person with this email already exists.")
DUPLICATE_SALESFORCE_ID = _("A person with this Salesforce ID already exists.")
SUPPRESSED_EMAIL = _("This person was erased; they cannot be added again.")


@transaction.atomic
def contact_create(*, fields: Mapping[str, Any], actor: User | None) -> Contact:
    """Create a contact by hand; it starts with Source type "Manual upload"."""
    contact = Contact(source_type=SourceType.MANUAL_UPLOAD)
    _assign(contact, fields)
    _validate(contact)
    _save(contact)

    extensions.run_hooks(
        extensions.CONTACTS_CREATED,
        contact_ids=[contact.pk],
        actor=actor,
        channel="manual",
    )
    logger.info("Contact %s created by hand", contact.pk)
    return contact


@transaction.atomic
def contact_update(
    *, contact_id: int, fields: Mapping[str, Any], actor: User | None
) -> Contact:
    """Change a contact's own fields, leaving its compliance fields alone."""
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    _assign(contact, fields)
    _validate(contact)
    # Only the fields of this form: a compliance or unsubscribe write that
    # commits meanwhile must not be overwritten with stale values.
    _save(contact, update_fields=[*fields, "updated_at"])

    logger.info("Contact %s updated by user %s", contact.pk, getattr(actor, "pk", None))
    return contact


def _assign(contact: Contact, fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"Not contact fields: {sorted(unknown)}")
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(contact, name, value)
    # Unique when set: an empty Salesforce ID is stored as NULL, not "".
    contact.salesforce_id = contact.salesforce_id or None


def _validate(contact: Contact) -> None:
    errors: dict[str, list] = {}
    try:
        # The email constraint is checked below with a readable message.
        contact.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors = error.message_dict

    others = Contact.objects.exclude(pk=contact.pk)
    # Compared through Lower(), so the unique index on lower(email) answers.
    same_email = others.alias(email_lower=Lower("email")).filter(
        email_lower=contact.email.lower()
    )
    if "email" not in errors and same_email.exists():
        errors["email"] = [DUPLICATE_EMAIL]
    if "email" not in errors and selectors.is_suppressed(contact.email):
        errors["email"] = [SUPPRESSED_EMAIL]
    if (
        contact.salesforce_id
        and "salesforce_id" not in errors
        and others.filter(salesforce_id=contact.salesforce_id).exists()
    ):
        errors["salesforce_id"] = [DUPLICATE_SALESFORCE_ID]
    if errors:
        raise ValidationError(errors)


def _save(contact: Contact, update_fields: list[str] | None = None) -> None:
    # Two people saving the same email at once both pass the check above; the
    # database constraint stops the second, which gets the same message.
    try:
        with transaction.atomic():
            contact.save(update_fields=update_fields)
    except IntegrityError as error:
        field = "salesforce_id" if "salesforce_id" in str(error) else "email"
        message = (
            DUPLICATE_SALESFORCE_ID if field == "salesforce_id" else DUPLICATE_EMAIL
        )
        raise ValidationError({field: [message]}) from None
