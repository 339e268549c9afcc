"""Fill an empty database with demo users and a few hundred contacts."""

import random
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.roles import ADMIN, SALES_REP
from accounts.services import user_create
from contacts.choices import PermissionType, SourceType
from contacts.demo_data import FIRST_NAMES, LAST_NAMES, TITLES
from contacts.models import Contact

DEMO_USERS = (
    ("admin", "demo-admin-pass", ADMIN, "Ada", "Admin"),
    ("rep", "demo-rep-pass", SALES_REP, "Sam", "Seller"),
)

COMPANIES = (
    "Nordlicht GmbH",
    "Atelier Dubois SARL",
    "Ibérica Logística SL",
    "Rossi & Figli SpA",
    "Baltic Freight AB",
    "Helsinki Data Oy",
    "Vltava Systems s.r.o.",
    "Lisboa Digital Lda",
    "Dublin Analytics Ltd",
    "Amsterdam Mobility BV",
    "Kraków Software sp. z o.o.",
    "Aegean Foods SA",
    "Wiener Werkstatt AG",
    "Copenhagen Design ApS",
)
PURPOSES = (
    "Sending product updates and event invitations by email.",
    "Following up on the trade-fair conversation about logistics software.",
    "Quarterly newsletter about data-protection tooling.",
)


class Command(BaseCommand):
    help = "On an empty database, create demo users and demo contacts."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, contacts: int, seed: int, **options):
        if User.objects.exists() or Contact.objects.exists():
            self.stdout.write("The database already has data; no demo data added.")
            self._print_logins()
            return

        for username, password, role, first, last in DEMO_USERS:
            user_create(
                username=username,
                password=password,
                role=role,
                first_name=first,
                last_name=last,
            )

        Contact.objects.bulk_create(
            # Demo data wants repeatable variety, not secrecy.
            self._demo_contacts(contacts, random.Random(seed)),  # noqa: S311 # nosec B311
            batch_size=500,
        )
        self.stdout.write(self.style.SUCCESS(f"Created {contacts} demo contacts."))
        self._print_logins()

    def _print_logins(self) -> None:
        for username, password, role, _, _ in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                self.stdout.write(
                    f"  {role}: username {username!r}, password {password!r}"
                )

    def _demo_contacts(self, count: int, rng: random.Random):
        today = timezone.now().date()
        for index in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company = rng.choice(COMPANIES)
            domain = company.split()[0].lower().replace("&", "") + ".example"
            permission = rng.choices(
                list(PermissionType), weights=[30, 25, 25, 8, 4, 1, 2, 5]
            )[0]
            contact = Contact(
                first_name=first,
                last_name=last,
                company=company,
                title=rng.choice(TITLES),
                email=f"{first}.{last}.{index}@{domain}".lower(),
                phone_number=f"+49 30 {rng.randint(1000000, 9999999)}",
                website=f"https://www.{domain}/",
                permission_type=permission,
                source_type=rng.choice(
                    [SourceType.IMPORT, SourceType.CRM_SYNC, SourceType.MANUAL_UPLOAD]
                ),
            )
            if permission == PermissionType.CONSENT:
                contact.consent_date = today - timedelta(days=rng.randint(1, 700))
                contact.processing_purpose = rng.choice(PURPOSES)
            elif permission == PermissionType.OTHER:
                contact.permission_type_description = "Existing customer relationship."
            yield contact
