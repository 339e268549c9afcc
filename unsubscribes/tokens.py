"""The signed token in every unsubscribe link.

The token is the contact id signed with HMAC-SHA256 under a salt used for
nothing else, so no other signed value of the app (a session, a reset link)
can pass for one, and no part of it can be guessed. It never expires: people
click year-old emails. Django checks SECRET_KEY_FALLBACKS too, so links keep
working after a key rotation. Never log a token: it unsubscribes someone.
"""

from django.core import signing

SALT = "salesinsight.unsubscribes.link"


def unsubscribe_token(contact_id: int) -> str:
    """Return the token that unsubscribes this contact."""
    return signing.dumps({"c": contact_id}, salt=SALT)


def contact_id_from_token(token: str) -> int | None:
    """Return the contact id a genuine token names, or None for anything else."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    contact_id = payload.get("c") if isinstance(payload, dict) else None
    # bool is an int; a forged payload cannot get here, but keep the type exact.
    if type(contact_id) is not int or contact_id <= 0:
        return None
    return contact_id
