"""Generated bad input at every form and endpoint: never a 500, never a partial write.

Each test sends one kind of request many times with generated values (see
tests/security/fuzz.py for the values and the verdict). Example counts scale
with the Hypothesis profile: `scaled(n)` is n in CI and 10n with
HYPOTHESIS_PROFILE=nightly (`make fuzz`).
"""

import datetime
import os
from urllib.parse import quote, urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts.choices import PermissionType, SourceType
from contacts.filters import PeopleFilter
from contacts.models import Contact
from contacts.pagination import CURSOR_SALT
from contacts.services import CONTACT_FIELDS
from tests.factories import ContactFactory
from tests.plugins.figures import scaled
from tests.security.fuzz import any_of, check, example, form, snapshot, value, values
from unsubscribes import tokens
from unsubscribes.services import contact_unsubscribe

pytestmark = pytest.mark.django_db

URLS = ["https://example.com/", "javascript:alert(1)", "http://", "ftp://x.example"]
EMAILS = ["a@example.com", "A@EXAMPLE.COM", "person0@example.com", "no-at-sign", "@x"]
DATES = ["2024-01-31", "2031-01-01", "1989-12-31", "31/01/2024", "2024-1-1"]


@pytest.fixture
def people(db, settings, tmp_path):
    """A few contacts of every kind the forms deal with."""
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.UNSUBSCRIBE_RATE_LIMIT = "1000000/m"
    consented = ContactFactory(
        permission_type=PermissionType.CONSENT,
        consent_date=datetime.date(2024, 1, 1),
        processing_purpose="Newsletter about our products",
    )
    plain = ContactFactory(permission_type=PermissionType.LEGITIMATE_INTEREST)
    gone = ContactFactory()
    contact_unsubscribe(contact_id=gone.pk, channel="user", actor_name="test")
    return {"consented": consented, "plain": plain, "unsubscribed": gone}


def _post(client, url: str, data: dict, **extra):
    before = snapshot()
    with example():
        response = client.post(url, data, **extra)
        check(response, before)
    return response


def _get(client, url: str, query: dict | str, *, records: bool = False, **extra):
    """GET with generated parameters; nothing may change unless it `records`."""
    before = snapshot()
    querystring = query if isinstance(query, str) else urlencode(query, doseq=True)
    with example():
        response = client.get(f"{url}?{querystring}", **extra)
        check(response, before, method="POST" if records else "GET")
    return response


CONTACT_FORM = form(
    {
        **dict.fromkeys(CONTACT_FIELDS, values),
        "email": st.one_of(values, st.sampled_from(EMAILS)),
        "website": st.one_of(values, st.sampled_from(URLS)),
        "linkedin": st.one_of(values, st.sampled_from(URLS)),
        "facebook": st.one_of(values, st.sampled_from(URLS)),
        "salesforce_id": st.one_of(values, st.just("003A000001abcDEF")),
    }
)


@settings(max_examples=scaled(500))
@given(data=CONTACT_FORM)
def test_the_contact_create_form_refuses_bad_input_cleanly(rep_client, people, data):
    _post(rep_client, reverse("contacts:person_create"), data)


@settings(max_examples=scaled(300))
@given(data=CONTACT_FORM)
def test_the_contact_edit_form_refuses_bad_input_cleanly(rep_client, people, data):
    url = reverse("contacts:person_edit", args=[people["plain"].pk])
    _post(rep_client, url, data)


CARD_FORM = form(
    {
        "permission_type": any_of(*PermissionType.values),
        "consent_date": st.one_of(values, st.sampled_from(DATES)),
        "consent_expires_on": st.one_of(values, st.sampled_from(DATES)),
        "processing_purpose": st.one_of(values, st.just("Newsletter about us")),
        "permission_type_description": values,
        "source_type": any_of(*SourceType.values),
        "source_type_description": values,
        "compliance_version": st.one_of(values, st.just("0")),
    }
)


@settings(max_examples=scaled(600))
@given(data=CARD_FORM, htmx=st.booleans())
def test_the_compliance_card_refuses_bad_input_cleanly(rep_client, people, data, htmx):
    url = reverse("compliance:card_edit", args=[people["consented"].pk])
    _post(rep_client, url, data, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))


LIST_KEYS = [
    *PeopleFilter.base_filters,
    "consent_date_after",
    "consent_date_before",
    "created_after",
    "created_before",
    "sort",
    "cursor",
    "page",
]


@settings(max_examples=scaled(800))
@given(
    query=st.dictionaries(st.sampled_from(LIST_KEYS), values, max_size=5),
    sort=st.sampled_from(["", "name", "-name", "company", "-created", "-updated"]),
)
def test_the_people_list_takes_any_querystring(rep_client, people, query, sort):
    if sort:
        query.setdefault("sort", sort)
    _get(rep_client, reverse("contacts:people"), query)


@settings(max_examples=scaled(300))
@given(payload=st.one_of(values, st.lists(values, max_size=4)), salt=st.booleans())
def test_the_people_list_takes_any_cursor_even_a_validly_signed_one(
    rep_client, people, payload, salt
):
    from django.core import signing

    # A cursor signed with our key but holding anything: the list must cope
    # with a forged shape, not only with a bad signature.
    cursor = signing.dumps(payload, salt=CURSOR_SALT) if salt else str(payload)
    _get(rep_client, reverse("contacts:people"), {"cursor": cursor, "sort": "name"})


def _selection(draw, people) -> dict:
    ids = [str(c.pk) for c in people.values()]
    scope = draw(any_of("ids", "all"))
    data = {"scope": scope}
    if draw(st.booleans()):
        data["ids"] = draw(st.lists(st.one_of(st.sampled_from(ids), values)))
    if draw(st.booleans()):
        data["filter"] = draw(
            st.one_of(
                values,
                st.dictionaries(st.sampled_from(LIST_KEYS), values, max_size=3).map(
                    urlencode
                ),
            )
        )
    if draw(st.booleans()):
        data["step"] = draw(any_of("apply", "confirm"))
    return data


BULK_VIEWS = [
    ("compliance_bulk:permission", "rep"),
    ("compliance_bulk:source", "rep"),
    ("contacts:bulk_delete", "rep"),
    ("unsubscribes:bulk_unsubscribe", "rep"),
    ("exports:contacts_csv", "admin"),
]


@settings(max_examples=scaled(1200))
@given(data=st.data())
def test_every_bulk_action_refuses_a_bad_selection_or_change_cleanly(
    client, sales_rep, admin_user, people, data
):
    name, role = data.draw(st.sampled_from(BULK_VIEWS))
    client.force_login(sales_rep if role == "rep" else admin_user)
    payload = _selection(data.draw, people)
    payload.update(data.draw(CARD_FORM))
    htmx = {"HTTP_HX_REQUEST": "true"} if data.draw(st.booleans()) else {}
    if data.draw(st.booleans()):
        _get(client, reverse(name), payload, **htmx)
    else:
        _post(client, reverse(name), payload, **htmx)


def _upload(draw) -> SimpleUploadedFile:
    name = draw(
        st.one_of(
            st.sampled_from(
                ["people.csv", "people.xlsx", "p.CSV", "p.txt", "p", "p.csv.exe"]
            ),
            st.text(min_size=1, max_size=80).map(lambda n: n.replace("\x00", "")),
        )
    )
    rows = st.lists(st.lists(value, min_size=1, max_size=6), max_size=8)
    content = draw(
        st.one_of(
            st.binary(max_size=3000),
            rows.map(
                lambda r: "\n".join(
                    ",".join(c.replace("\x00", "") for c in row) for row in r
                ).encode("utf-8", "surrogatepass")
            ),
            rows.map(
                lambda r: (
                    "email,first_name,website\n"
                    + "\n".join(",".join(row[:3]) for row in r)
                ).encode("utf-8", "surrogatepass")
            ),
        )
    )
    return SimpleUploadedFile(_file_name(name), content)


def _file_name(name: str) -> str:
    """Return `name` as an upload can carry it.

    Django refuses to build an upload whose name has no file part ("/", "..");
    no browser can send one, so the test would fail before any request.
    """
    base = os.path.basename(name)
    return base if base not in {"", ".", ".."} else "x"


@settings(max_examples=scaled(400))
@given(data=st.data())
def test_the_import_refuses_bad_files_cleanly(rep_client, people, data, settings):
    payload = {}
    if data.draw(st.booleans()):
        payload["file"] = _upload(data.draw)
    payload.update(data.draw(form({"x": values})))
    _post(rep_client, reverse("contacts:people_import"), payload)


@settings(max_examples=scaled(250))
@given(token=values, action=any_of("cancel", "confirm"))
def test_the_import_confirmation_refuses_forged_previews(
    rep_client, people, token, action
):
    from django.core import signing

    from contacts.views import IMPORT_PREVIEW_SALT

    forged = signing.dumps(
        {"file": token, "format": "csv", "rows": 1, "user": 1},
        salt=IMPORT_PREVIEW_SALT,
    )
    for sent in (token, forged):
        _post(
            rep_client,
            reverse("contacts:people_import_confirm"),
            {"token": sent, "action": action},
        )


@settings(max_examples=scaled(2000))
@given(
    token=st.one_of(
        value, st.text(alphabet="abcdefghijklmnopqrstuvwxyz0-_:", max_size=80)
    ),
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT"]),
    body=form({"List-Unsubscribe": any_of("One-Click"), "x": values}),
)
def test_the_public_unsubscribe_pages_refuse_bad_tokens_cleanly(
    client, people, token, method, body
):
    # Quoted, so that "?" or "#" in a token stays in the path.
    url = f"/u/{quote(token, safe='')}/"
    before = snapshot()
    with example():
        response = client.generic(
            method, url, urlencode(body), "application/x-www-form-urlencoded"
        )
        check(response, before, method=method)
        assert response.status_code in (404, 405), response.status_code


@settings(max_examples=scaled(500))
@given(data=st.data())
def test_the_public_unsubscribe_takes_any_body_with_a_genuine_token(
    client, people, data
):
    token = tokens.unsubscribe_token(people["plain"].pk)
    body = data.draw(
        st.one_of(
            form({"List-Unsubscribe": any_of("One-Click"), "x": values}).map(urlencode),
            st.binary(max_size=500),
        )
    )
    content_type = data.draw(
        st.sampled_from(
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "multipart/form-data",
                "text/plain",
            ]
        )
    )
    before = snapshot()
    with example():
        response = client.generic("POST", f"/u/{token}/", body, content_type)
        check(response, before)


RESUBSCRIBE_FORM = form(
    {
        "consent_date": st.one_of(values, st.sampled_from(DATES)),
        "processing_purpose": values,
        "consent_obtained": values,
        "evidence_note": values,
    }
)


@settings(max_examples=scaled(500))
@given(data=RESUBSCRIBE_FORM, upload=st.booleans(), draw=st.data())
def test_the_resubscribe_form_refuses_bad_proof_cleanly(
    admin_client, people, data, upload, draw
):
    if upload:
        data["evidence_file"] = _upload(draw.draw)
    url = reverse("unsubscribes:resubscribe", args=[people["unsubscribed"].pk])
    _post(admin_client, url, data)


@settings(max_examples=scaled(500))
@given(
    data=form({"subject": values, "body": values}),
    who=st.sampled_from(["consented", "plain", "unsubscribed"]),
)
def test_the_send_email_form_refuses_bad_input_cleanly(rep_client, people, data, who):
    _post(rep_client, reverse("unsubscribes:send_email", args=[people[who].pk]), data)


@settings(max_examples=scaled(1000))
@given(
    data=form(
        {
            "username": st.one_of(values, st.just("rep")),
            "password": st.one_of(values, st.just("rep-password-1")),
            "next": st.one_of(
                values,
                st.sampled_from(
                    ["//evil.example/", "https://evil.example/", "/people/", "\\\\x"]
                ),
            ),
        }
    )
)
def test_the_login_form_refuses_bad_input_and_never_redirects_off_site(
    client, sales_rep, data
):
    from django.core.cache import cache

    cache.clear()  # a lockout would hide the rest of the form from the test
    response = _post(client, reverse("login"), data)
    if response.status_code == 302:
        assert url_has_allowed_host_and_scheme(
            response["Location"], allowed_hosts={"testserver"}
        ), response["Location"]


@settings(max_examples=scaled(250))
@given(page=values, htmx=st.booleans())
def test_history_pages_take_any_page_number(rep_client, people, page, htmx):
    contact = people["consented"]
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = _get(
        rep_client,
        reverse("compliance:history", args=[contact.pk]),
        {"history_page": page},
        **extra,
    )
    if response.status_code == 302:
        assert "\n" not in response["Location"]
    _get(rep_client, contact.get_absolute_url(), {"history_page": page})


@settings(max_examples=scaled(250))
@given(path=st.text(st.characters(exclude_categories=["Cs"]), max_size=60))
def test_any_path_under_the_app_is_answered_without_a_server_error(
    rep_client, people, path
):
    for prefix in ("/people/", "/compliance/", "/exports/people/", "/admin/"):
        _get(rep_client, prefix + path.lstrip("/"), {})


MALFORMED_BODIES = st.one_of(
    st.binary(max_size=800),
    st.just(b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n'),
    st.just(b"a=%ff%fe%00&b=%E2%82&c"),
)


@settings(max_examples=scaled(1000))
@given(
    body=MALFORMED_BODIES,
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "application/json",
        ]
    ),
    name=st.sampled_from(
        [
            "contacts:person_create",
            "contacts:people_import",
            "compliance_bulk:permission",
            "unsubscribes:bulk_unsubscribe",
            "login",
        ]
    ),
)
def test_malformed_request_bodies_are_refused_cleanly(
    rep_client, people, body, content_type, name
):
    before = snapshot()
    with example():
        response = rep_client.generic("POST", reverse(name), body, content_type)
        check(response, before)


@settings(max_examples=scaled(200))
@given(data=form({"x": values}), htmx=st.booleans())
def test_sync_now_takes_any_post(admin_client, people, data, htmx):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    _post(admin_client, reverse("salesforce_sync:sync_now"), data, **extra)


@settings(max_examples=scaled(200))
@given(
    data=form({"x": values, "scope": values, "ids": values}),
    who=st.sampled_from(["consented", "plain", "unsubscribed"]),
)
def test_person_pages_ignore_stray_parameters(
    rep_client, admin_client, people, data, who
):
    contact = people[who]
    for name in ("contacts:person_detail", "unsubscribes:send_email"):
        _get(rep_client, reverse(name, args=[contact.pk]), data)
    # An export is recorded in the export history: a GET that writes.
    _get(
        rep_client,
        reverse("exports:contact_csv", args=[contact.pk]),
        data,
        records=True,
    )
    _post(
        rep_client,
        reverse("unsubscribes:person_unsubscribe", args=[contact.pk]),
        data,
    )


def test_the_fuzz_snapshot_sees_a_write():
    """The verdict would be hollow if the snapshot missed changes."""
    before = snapshot()
    ContactFactory()

    assert snapshot() != before
    assert Contact.objects.count() == 1
