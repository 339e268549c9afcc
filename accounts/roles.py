"""The two roles and what each may do, declared in one place.

Views check Django permissions, never group names; this module is the only
place that says which role holds which permission. The role matrix test reads
it, so a permission granted here and not enforced (or the reverse) fails there.
"""

import logging

from django.contrib.auth.models import Group, Permission

logger = logging.getLogger(__name__)

SALES_REP = "Sales rep"
ADMIN = "Admin"
ROLES = (SALES_REP, ADMIN)

# The apps whose permissions Admins hold in full.
PROJECT_APPS = (
    "accounts",
    "contacts",
    "compliance",
    "unsubscribes",
    "exports",
    "salesforce_sync",
    "overview",
)

SALES_REP_PERMISSIONS = frozenset(
    {
        "contacts.view_contact",
        "contacts.add_contact",
        "contacts.change_contact",
        "contacts.delete_contact",
        "contacts.import_contacts",
        "compliance.view_compliancechange",
        "unsubscribes.view_subscriptionchange",
        "unsubscribes.unsubscribe_contact",
        "unsubscribes.send_email",
        "exports.export_contact",
        "overview.view_overview",
    }
)


def permission_codes(role: str) -> set[str]:
    """Return the "app_label.codename" permissions that a role grants."""
    if role == SALES_REP:
        return set(SALES_REP_PERMISSIONS)
    if role == ADMIN:
        admin_permissions = Permission.objects.filter(
            content_type__app_label__in=PROJECT_APPS
        ).values_list("content_type__app_label", "codename")
        return {f"{app}.{codename}" for app, codename in admin_permissions}
    raise ValueError(f"Unknown role: {role!r}")


def _permissions(codes: set[str]) -> list[Permission]:
    wanted = {tuple(code.split(".", 1)) for code in codes}
    candidates = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted},
        codename__in={codename for _, codename in wanted},
    ).select_related("content_type")
    return [p for p in candidates if (p.content_type.app_label, p.codename) in wanted]


def sync_role_permissions(**kwargs) -> None:
    """Make each role's group hold exactly the permissions declared above.

    Permissions of apps not migrated yet are missing for now; a later call,
    after their migration, adds them.
    """
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions(permission_codes(role)))
