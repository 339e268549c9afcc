"""The keyed hash that stands for an erased person's email.

HMAC-SHA256 of the normalised email (stripped, lowercased) under a key that
Django derives from SECRET_KEY with a salt of its own, so the hash is useless
to anyone without the key and unrelated to any other hash the project makes.
Emails hashed under a key in SECRET_KEY_FALLBACKS still match after a key
rotation (see contacts.selectors.suppressed_hashes).
"""

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "salesinsight.contacts.suppression"


def normalise_email(email: str) -> str:
    """Return the form of an email that suppression compares: stripped, lowercase."""
    return email.strip().lower()


def email_hash(email: str, *, secret: str | None = None) -> str:
    """Return the hex keyed hash of a normalised email under the current key."""
    return salted_hmac(
        SALT, normalise_email(email), secret=secret, algorithm="sha256"
    ).hexdigest()


def email_hashes_under_every_key(email: str) -> list[str]:
    """Return the email's hash under SECRET_KEY, then under each fallback key."""
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [email_hash(email, secret=secret) for secret in secrets]
