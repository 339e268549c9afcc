"""Fill the contacts table quickly, with PostgreSQL's COPY.

The rows vary the way a real contact base does: names and companies from a
few hundred values, most contacts with a legal basis, some with consent, a
few unsubscribed. The same seed gives the same rows, so runs compare.
"""

import io
import logging
import random
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from contacts.demo_data import FIRST_NAMES, LAST_NAMES, TITLES

logger = logging.getLogger(__name__)

COMPANY_WORDS = [
    "Nord",
    "Atelier",
    "Ibérica",
    "Baltic",
    "Vltava",
    "Lisboa",
    "Dublin",
    "Kraków",
    "Aegean",
    "Wiener",
    "Rhein",
    "Alpen",
    "Danube",
    "Adria",
    "Celtic",
    "Hansa",
    "Loire",
    "Tagus",
    "Oder",
    "Elbe",
]
COMPANY_KINDS = [
    "GmbH",
    "SARL",
    "SL",
    "SpA",
    "AB",
    "Oy",
    "Lda",
    "Ltd",
    "BV",
    "AG",
    "ApS",
]
PERMISSIONS = (
    ("not_set", 20),
    ("consent", 30),
    ("legitimate_interest", 30),
    ("contract", 10),
    ("legal_obligation", 4),
    ("vital_interests", 1),
    ("public_interest", 1),
    ("other", 4),
)
SOURCES = (("crm_sync", 40), ("import", 35), ("manual_upload", 15), ("not_set", 10))

COLUMNS = (
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
    "created_at",
    "updated_at",
    "permission_type",
    "consent_date",
    "processing_purpose",
    "permission_type_description",
    "source_type",
    "source_type_description",
    "compliance_version",
    "is_unsubscribed",
    "subscription_changed_at",
)


class _Lines(io.RawIOBase):
    """A read-only file over generated lines, so COPY never holds them all."""

    def __init__(self, lines):
        self._lines = lines
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while len(self._buffer) < len(target):
            try:
                self._buffer += next(self._lines).encode()
            except StopIteration:
                break
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def _rows(count: int, seed: int):
    rng = random.Random(seed)  # noqa: S311 # nosec B311 - repeatable data, no secrecy
    permissions, permission_weights = zip(*PERMISSIONS, strict=True)
    sources, source_weights = zip(*SOURCES, strict=True)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
        permission = rng.choices(permissions, permission_weights)[0]
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 900))
        consent_date = purpose = description = r"\N"
        if permission == "consent":
            consent_date = (
                date(2026, 10, 1) - timedelta(days=rng.randint(0, 800))
            ).isoformat()
            purpose = "Product updates and event invitations by email."
        elif permission == "other":
            description = "Existing customer relationship."
        unsubscribed = rng.random() < 0.05
        fields = (
            first,
            last,
            company,
            rng.choice(TITLES),
            f"{first}.{last}.{index}@example.com".lower(),
            f"+49 30 {rng.randint(1000000, 9999999)}",
            "",
            "",
            "",
            "",
            "",
            created.isoformat(),
            (created + timedelta(days=rng.randint(0, 30))).isoformat(),
            permission,
            consent_date,
            "" if purpose == r"\N" else purpose,
            "" if description == r"\N" else description,
            rng.choices(sources, source_weights)[0],
            "",
            "0",
            "t" if unsubscribed else "f",
            created.isoformat() if unsubscribed else r"\N",
        )
        yield "\t".join(fields) + "\n"


def seeded_size() -> int:
    """Return the number of contacts, or -1 when an earlier run changed them.

    Benchmarks unsubscribe, update, link and import contacts; history rows and
    Salesforce ids are signs of that, and a run must start from the same rows
    as the last one.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM compliance_compliancechange)"
            " OR EXISTS (SELECT 1 FROM unsubscribes_subscriptionchange)"
            " OR EXISTS (SELECT 1 FROM contacts_contact"
            " WHERE salesforce_id IS NOT NULL)"
        )
        if cursor.fetchone()[0]:
            return -1
        cursor.execute("SELECT count(*) FROM contacts_contact")
        return cursor.fetchone()[0]


def seed(count: int, *, seed: int = 2026) -> None:
    """Replace every contact with `count` generated ones, VACUUM ANALYZE, CHECKPOINT.

    The vacuum does what autovacuum does soon after a bulk load, setting the
    visibility map and hint bits: without it the first runs would read a table
    no database in service looks like, and pay for writing those bits.
    """
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE contacts_contact RESTART IDENTITY CASCADE")
        stream = io.BufferedReader(_Lines(_rows(count, seed)), buffer_size=1 << 16)
        cursor.copy_expert(
            f"COPY contacts_contact ({', '.join(COLUMNS)}) FROM STDIN",  # nosec B608 - fixed column names
            stream,
            size=1 << 16,
        )
        cursor.execute("VACUUM (ANALYZE) contacts_contact")
        # Write the load's pages out now: a checkpoint that starts during the
        # first measurements slows whichever of them it overlaps.
        cursor.execute("CHECKPOINT")
    logger.info("Seeded %s contacts", count)
