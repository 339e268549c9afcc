"""Who gets what at every URL of the app, declared in one place.

tests/security/test_access_matrix.py walks the URLconf and requests every URL
as an anonymous visitor, a Sales rep and an Admin, with every HTTP method its
view accepts and with the methods it does not, and compares each answer with
this table. A URL that is not declared here fails that test: add its name to
ACCESS (or, for the Django admin, to ADMIN_EXCEPTIONS if it departs from
ADMIN_SITE).

Two outcomes are derived rather than written out, because they follow from
the decorators' order (log-in check, then permission, then method, then the
object): a method the view does not accept answers 405 to whoever would have
been let in, and an object URL naming an object that does not exist answers
404 to whoever would have been let in. Whoever is kept out is kept out the
same way whatever the method or the object, so nothing leaks about either.
"""

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    # 2xx, or a redirect anywhere but a login page.
    ALLOWED = "allowed"
    # A redirect to a login page (the app's, or the admin's) with ?next=.
    LOGIN = "redirect to login"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    NOT_ALLOWED = "405"


ALLOWED = Outcome.ALLOWED
LOGIN = Outcome.LOGIN
FORBIDDEN = Outcome.FORBIDDEN
NOT_FOUND = Outcome.NOT_FOUND


@dataclass(frozen=True)
class Access:
    """What each kind of visitor gets from one method of one URL."""

    anonymous: Outcome
    sales_rep: Outcome
    admin: Outcome

    def for_role(self, role: str) -> Outcome:
        return getattr(self, role)


ROLES = ("anonymous", "sales_rep", "admin")

EVERYONE = Access(ALLOWED, ALLOWED, ALLOWED)
SIGNED_IN = Access(LOGIN, ALLOWED, ALLOWED)
ADMINS = Access(LOGIN, FORBIDDEN, ALLOWED)
# The public unsubscribe pages: the signed token is the only key, so a bad or
# foreign token is a plain 404 for everyone (checked as the "missing object").
TOKEN_HOLDERS = EVERYONE

# URL name -> {HTTP method the view accepts -> Access}.
ACCESS: dict[str, dict[str, Access]] = {
    "home": {"GET": EVERYONE},
    "login": {"GET": EVERYONE, "POST": EVERYONE},
    "logout": {"POST": EVERYONE},
    # The language switch in the top bar, for visitors too (the login page).
    "set_language": {"POST": EVERYONE},
    # People list, Person Details, the contact forms, erasure, import.
    "contacts:people": {"GET": SIGNED_IN},
    "contacts:person_detail": {"GET": SIGNED_IN},
    "contacts:person_create": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "contacts:person_edit": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "contacts:person_delete": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "contacts:bulk_delete": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # The test's job was started by another user: a Sales rep sees only their
    # own jobs, anyone else's is "not found" like one that does not exist; an
    # Admin (contacts.view_bulkjob) sees every job.
    "contacts:bulk_job": {"GET": Access(LOGIN, NOT_FOUND, ALLOWED)},
    "contacts:people_import": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "contacts:people_import_confirm": {"POST": SIGNED_IN},
    # The Compliance card and its history.
    "compliance:card": {"GET": SIGNED_IN},
    "compliance:card_edit": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "compliance:history": {"GET": SIGNED_IN},
    "compliance_bulk:permission": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "compliance_bulk:source": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "compliance_bulk:reconfirm": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # Unsubscribes, sending email, resubscribing with proof.
    "unsubscribes:unsubscribe": {
        "GET": TOKEN_HOLDERS,
        "HEAD": TOKEN_HOLDERS,
        "POST": TOKEN_HOLDERS,
    },
    "unsubscribes:person_unsubscribe": {"POST": SIGNED_IN},
    "unsubscribes:bulk_unsubscribe": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "unsubscribes:send_email": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "unsubscribes:resubscribe": {"GET": ADMINS, "POST": ADMINS},
    "unsubscribes:evidence_download": {"GET": ADMINS},
    # Exports.
    "exports:contact_csv": {"GET": SIGNED_IN},
    "exports:contacts_csv": {"GET": ADMINS, "POST": ADMINS},
    "exports:access_bundle": {"GET": ADMINS},
    # The Compliance overview and its "Refresh" button.
    "overview:overview": {"GET": SIGNED_IN},
    "overview:refresh": {"POST": SIGNED_IN},
    # The Salesforce sync page and its "Sync now" button.
    "salesforce_sync:page": {"GET": ADMINS},
    "salesforce_sync:sync_now": {"POST": ADMINS},
}

# Every URL of the Django admin (namespace "admin"), GET and POST (its views
# take both), unless ADMIN_EXCEPTIONS says otherwise: a Sales rep is told
# plainly that the admin is not for them (salesinsight.admin), a visitor is
# sent to the admin login.
ADMIN_NAMESPACE = "admin"
ADMIN_SITE = Access(LOGIN, FORBIDDEN, ALLOWED)
ADMIN_METHODS = ("GET", "POST")

# Histories are evidence, and the sync's tables are its bookkeeping: the admin
# shows them read-only, so nobody adds, changes or deletes a row there.
_REFUSED_TO_ADMINS = Access(LOGIN, FORBIDDEN, FORBIDDEN)
_READ_ONLY = (
    "compliance_compliancechange",
    "unsubscribes_subscriptionchange",
    "unsubscribes_sentemail",
    "exports_exportrecord",
    "salesforce_sync_outboxentry",
    "salesforce_sync_syncrun",
    "salesforce_sync_syncstate",
)
# Users, groups and login lockouts are not project data: the Admin role holds
# no permission on them (accounts/roles.py), a superuser manages them.
_SUPERUSERS_ONLY = (
    "auth_user",
    "auth_group",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
)
_WRONG_METHOD = Access(LOGIN, FORBIDDEN, Outcome.NOT_ALLOWED)


def _get_and_post(access: Access) -> dict[str, Access]:
    return {"GET": access, "POST": access}


ADMIN_EXCEPTIONS: dict[str, dict[str, Access]] = {
    # The login page itself: open to visitors, refused to a Sales rep.
    "admin:login": _get_and_post(Access(ALLOWED, FORBIDDEN, ALLOWED)),
    # Logging out needs a POST; a visitor is sent to the admin's index.
    "admin:logout": {
        "GET": Access(ALLOWED, FORBIDDEN, Outcome.NOT_ALLOWED),
        "POST": Access(ALLOWED, FORBIDDEN, ALLOWED),
    },
    "admin:password_change_done": {"GET": ADMIN_SITE, "POST": _WRONG_METHOD},
    "admin:jsi18n": {"GET": ADMIN_SITE, "POST": _WRONG_METHOD},
    # Autocomplete answers only a request naming a field to complete, which
    # no admin here declares.
    "admin:autocomplete": {"GET": _REFUSED_TO_ADMINS, "POST": _WRONG_METHOD},
    # The second step of the admin's import takes only the form's POST.
    "admin:contacts_contact_process_import": {
        "GET": _WRONG_METHOD,
        "POST": ADMIN_SITE,
    },
    **{
        f"admin:{model}_{action}": _get_and_post(_REFUSED_TO_ADMINS)
        for model in _READ_ONLY
        for action in ("add", "delete")
    },
    # The change page of a history row shows it; saving it is refused.
    **{
        f"admin:{model}_change": {"GET": ADMIN_SITE, "POST": _REFUSED_TO_ADMINS}
        for model in _READ_ONLY
    },
    **{
        f"admin:{model}_{action}": _get_and_post(_REFUSED_TO_ADMINS)
        for model in _SUPERUSERS_ONLY
        for action in ("changelist", "add", "change", "delete", "history")
    },
    "admin:auth_user_password_change": _get_and_post(_REFUSED_TO_ADMINS),
}


# The admin's unnamed patterns, told apart by their view: an object's bare URL
# redirects to its change page, and the catch-all answers any other path
# under /admin/ (404, once the visitor is known to be an Admin).
ADMIN_UNNAMED: dict[str, Access] = {
    "RedirectView": ADMIN_SITE,
    "catch_all_view": Access(LOGIN, FORBIDDEN, NOT_FOUND),
}


def expected(name: str, method: str, role: str, view: str = "") -> Outcome | None:
    """Return the declared outcome, or None when the URL's method is undeclared.

    `name` is the URL's full name ("contacts:people"); an unnamed admin
    pattern is "admin:" and is told apart by its `view`'s name.
    """
    if name == f"{ADMIN_NAMESPACE}:":
        access = ADMIN_UNNAMED.get(view)
        return access.for_role(role) if access and method in ADMIN_METHODS else None
    if name in ADMIN_EXCEPTIONS and method in ADMIN_EXCEPTIONS[name]:
        return ADMIN_EXCEPTIONS[name][method].for_role(role)
    if name.startswith(f"{ADMIN_NAMESPACE}:") and method in ADMIN_METHODS:
        return ADMIN_SITE.for_role(role)
    access = ACCESS.get(name, {}).get(method)
    return access.for_role(role) if access else None
