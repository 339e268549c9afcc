"""Every URL, every role, every method, against the matrix in salesinsight/access.py.

The test walks the URLconf (the Django admin's patterns included), builds each
URL with real objects made for the request, and sends every method in
urlconf.METHODS as an anonymous visitor, a Sales rep and an Admin: the methods
the view accepts must answer as declared, the others 405 (to whoever would
have been let in), and an object URL naming no object 404 (likewise).
"""

from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import BulkJob, Contact
from salesinsight import access
from salesinsight.access import Outcome
from tests.factories import ContactFactory
from tests.plugins.figures import record
from tests.security.urlconf import METHODS, Route, accepted_methods, routes
from unsubscribes import tokens
from unsubscribes.choices import Action, Channel
from unsubscribes.models import SubscriptionChange
from unsubscribes.services import ConsentProof, contact_resubscribe, contact_unsubscribe

pytestmark = pytest.mark.django_db

ROUTES = list(routes())
WHERE = "salesinsight/access.py"
MISSING_ID = 2_147_000_000


def _declared(route: Route) -> set[str]:
    view = _view_name(route.callback)
    return {
        method
        for method in METHODS
        if access.expected(route.name, method, "admin", view) is not None
    }


def _view_name(callback) -> str:
    view_class = getattr(callback, "view_class", None)
    return view_class.__name__ if view_class else callback.__name__


def test_every_url_pattern_is_declared_in_the_matrix():
    undeclared = [route.key for route in ROUTES if not _declared(route)]

    assert undeclared == [], (
        f"These URLs are not in the access matrix: declare who may use them, "
        f"per method, in ACCESS in {WHERE}: {undeclared}"
    )


def test_every_url_outside_the_admin_has_a_name():
    unnamed = [route.route for route in ROUTES if not route.named]

    assert all(route.startswith("admin/") for route in unnamed), (
        f"Name these URL patterns (name=...) and declare them in {WHERE}: "
        f"{[r for r in unnamed if not r.startswith('admin/')]}"
    )


def test_the_matrix_declares_no_url_that_does_not_exist():
    names = {route.name for route in ROUTES}

    stale = (set(access.ACCESS) | set(access.ADMIN_EXCEPTIONS)) - names

    assert stale == set(), f"Remove these names from {WHERE}: {sorted(stale)}"


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if not r.is_admin], ids=lambda r: r.key
)
def test_every_view_says_which_methods_it_accepts_as_the_matrix_does(route):
    accepted = accepted_methods(route.callback)

    assert accepted is not None, (
        f"{route.key}: declare the methods the view accepts with "
        "require_http_methods (or http_method_names on a class-based view)"
    )
    assert accepted == _declared(route), (
        f"{route.key}: the view accepts {sorted(accepted)}, the matrix in "
        f"{WHERE} declares {sorted(_declared(route))}"
    )


@pytest.fixture
def world(sales_rep, admin_user, settings, tmp_path):
    """One row of every model the admin shows, and the users of each role."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from compliance.services import compliance_update
    from exports.services import contact_export
    from salesforce_sync.models import OutboxEntry, OutboxReason, RunTrigger, SyncRun
    from salesforce_sync.services import sync_state
    from tests.unsubscribes.factories import SentEmailFactory

    settings.MEDIA_ROOT = tmp_path / "private"
    settings.UNSUBSCRIBE_RATE_LIMIT = "100000/m"
    contact = ContactFactory()
    compliance_update(
        contact_id=contact.pk,
        changes={"permission_type": "legitimate_interest"},
        channel="card",
        actor=admin_user,
    )
    SentEmailFactory(contact=contact)
    contact_unsubscribe(contact_id=contact.pk, channel=Channel.USER, actor_name="t")
    contact_export(contact=contact, actor=admin_user)
    axes_row = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "rep"}
    SyncRun.objects.create(trigger=RunTrigger.MANUAL, started_at=timezone.now())
    sync_state()
    OutboxEntry.objects.create(contact=contact, reason=OutboxReason.UNSUBSCRIBE)
    # bulk_create: axes' post_save handler fails under its cache handler.
    AccessAttempt.objects.bulk_create(
        [AccessAttempt(**axes_row, get_data="", post_data="", failures_since_start=1)]
    )
    AccessLog.objects.bulk_create([AccessLog(**axes_row)])
    AccessFailureLog.objects.bulk_create([AccessFailureLog(**axes_row)])
    return {"anonymous": None, "sales_rep": sales_rep, "admin": admin_user}


def _resubscribed_change(admin_user) -> SubscriptionChange:
    contact = ContactFactory()
    contact_unsubscribe(contact_id=contact.pk, channel=Channel.USER, actor_name="t")
    contact_resubscribe(
        contact_id=contact.pk,
        actor=admin_user,
        proof=ConsentProof(
            consent_date=timezone.localdate(),
            processing_purpose="Newsletter about our products",
            consent_obtained="Signed form",
            evidence_file=SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof"),
        ),
    )
    return SubscriptionChange.objects.filter(
        contact=contact, action=Action.RESUBSCRIBE
    ).get()


def _argument(name: str, route: Route, world, *, missing: bool) -> str | int:
    """Return a real value for one URL argument, or one naming nothing."""
    if name == "contact_id":
        return MISSING_ID if missing else ContactFactory().pk
    if name == "job_id":
        # Started by someone else than the Sales rep, as the matrix says.
        job = BulkJob.objects.create(kind="delete", actor=world["admin"])
        return MISSING_ID if missing else job.pk
    if name == "change_id":
        return MISSING_ID if missing else _resubscribed_change(world["admin"]).pk
    if name == "token":
        return tokens.unsubscribe_token(MISSING_ID if missing else ContactFactory().pk)
    if name in ("object_id", "id"):
        return _admin_object(route, world).pk
    if name == "content_type_id":
        return ContentType.objects.get_for_model(Contact).pk
    if name == "app_label":
        return "contacts"
    if name == "url":
        return "no-such-page/"
    pytest.fail(
        f"{route.key}: teach _argument() in {__file__} to build a {name!r}, "
        "with a real object and with one that does not exist"
    )


def _admin_object(route: Route, world):
    if route.name == "admin:view_on_site":
        return Contact.objects.order_by("pk").first()
    app_label, model_name = route.route.split("/")[1:3]
    model = apps.get_model(app_label, model_name)
    instance = model._default_manager.order_by("pk").first()
    if instance is None:
        pytest.fail(f"Create a {model.__name__} in the world fixture of {__file__}")
    return instance


def _url(route: Route, world, *, missing: bool = False) -> str:
    kwargs = {
        name: _argument(name, route, world, missing=missing) for name in route.arguments
    }
    if route.named:
        return reverse(route.name, kwargs=kwargs)
    # The admin's unnamed patterns: substitute the arguments into the route.
    path = "/" + route.route.replace("^", "").replace("$", "")
    for name, value in kwargs.items():
        path = path.replace(f"<path:{name}>", str(value))
        path = path.replace(f"(?P<{name}>.*)", str(value))
    return path


def _outcome(response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        location = response["Location"]
        logins = {reverse("login"), reverse("admin:login")}
        if urlsplit(location).path in logins and "next=" in location:
            return Outcome.LOGIN
        return Outcome.ALLOWED
    if 200 <= status < 300:
        return Outcome.ALLOWED
    return {
        403: Outcome.FORBIDDEN,
        404: Outcome.NOT_FOUND,
        405: Outcome.NOT_ALLOWED,
    }.get(status, str(status))


def _request(route: Route, user, method: str, url: str):
    client = Client()
    if user is not None:
        client.force_login(user)
    data = {}
    if not route.is_admin:
        # Bulk views need a selection; every other view ignores it. The admin
        # gets an empty body, which never confirms a deletion or an action.
        data = {"scope": "ids", "ids": str(ContactFactory().pk)}
    if method in ("GET", "HEAD"):
        response = client.generic(method, url, QUERY_STRING=_query(data))
    else:
        response = client.generic(
            method,
            url,
            _query(data),
            content_type="application/x-www-form-urlencoded",
        )
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def _query(data: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(data)


def _derived(declared: Outcome | None, otherwise: Outcome, fallback: Outcome):
    """Who is kept out (login, 403) stays kept out; anyone else gets `otherwise`."""
    if declared is None:
        return fallback
    return declared if declared in (Outcome.LOGIN, Outcome.FORBIDDEN) else otherwise


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_every_url_answers_every_role_and_method_as_the_matrix_declares(route, world):
    view = _view_name(route.callback)
    declared_methods = _declared(route)
    assert declared_methods, f"{route.key} is not declared in {WHERE}"
    # What a role gets for a method the view does not accept: 405 if the role
    # would be let in, the same refusal otherwise. The matrix's GET (or first
    # declared method) says which.
    reference = "GET" if "GET" in declared_methods else sorted(declared_methods)[0]

    mismatches = []
    checks = 0
    for role in access.ROLES:
        user = world[role]
        ref = access.expected(route.name, reference, role, view)
        for method in METHODS:
            declared = access.expected(route.name, method, role, view)
            if route.is_admin and method not in access.ADMIN_METHODS:
                continue  # the admin rule covers GET and POST
            want = (
                declared
                if declared is not None
                else _derived(ref, Outcome.NOT_ALLOWED, Outcome.NOT_ALLOWED)
            )
            variants = [(False, want)]
            object_route = any(a != "app_label" for a in route.arguments)
            if declared is not None and object_route and not route.is_admin:
                variants.append((True, _derived(declared, Outcome.NOT_FOUND, want)))
            for missing, wanted in variants:
                url = _url(route, world, missing=missing)
                got = _outcome(_request(route, user, method, url))
                checks += 1
                if got != wanted:
                    what = "missing object" if missing else "real object"
                    mismatches.append(
                        f"{method} {url} as {role} ({what}): got {got}, "
                        f"expected {wanted}"
                    )

    record("access checks (URL x role x method)", checks)
    assert mismatches == [], (
        f"{route.key} does not answer as {WHERE} declares:\n" + "\n".join(mismatches)
    )
