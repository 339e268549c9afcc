"""Creating and editing people by hand, at /people/new/ and /people/<id>/edit/."""

import pytest
from django.urls import reverse

from contacts.models import Contact
from contacts.services import DUPLICATE_EMAIL
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

NEW = "/people/new/"


def edit_url(contact) -> str:
    return f"/people/{contact.pk}/edit/"


def test_the_urls_are_the_ones_people_see():
    assert reverse("contacts:person_create") == NEW
    assert reverse("contacts:person_edit", args=[7]) == "/people/7/edit/"


@pytest.mark.parametrize("url", [NEW, "/people/1/edit/"])
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_users_without_a_role_are_refused(outsider_client):
    contact = ContactFactory()

    assert outsider_client.get(NEW).status_code == 403
    assert outsider_client.post(NEW, {"email": "x@example.com"}).status_code == 403
    assert outsider_client.get(edit_url(contact)).status_code == 403
    assert not Contact.objects.filter(email="x@example.com").exists()


@pytest.mark.parametrize("client_fixture", ["rep_client", "admin_client"])
def test_both_roles_create_a_person_with_source_type_manual_upload(
    request, client_fixture
):
    client = request.getfixturevalue(client_fixture)

    response = client.post(
        NEW,
        {
            "first_name": "Anna",
            "last_name": "Müller",
            "email": "anna@nordlicht.example",
            "website": "https://www.nordlicht.example/",
        },
        follow=True,
    )

    contact = Contact.objects.get(email="anna@nordlicht.example")
    assert response.redirect_chain[-1][0] == contact.get_absolute_url()
    assert contact.source_type == "manual_upload"
    html = response.content.decode()
    assert "Person created." in html
    assert "Manual upload" in html
    assert "Created by hand" in html


def test_a_duplicate_email_in_another_case_is_a_readable_error(rep_client):
    ContactFactory(email="anna@nordlicht.example")

    response = rep_client.post(NEW, {"email": "ANNA@Nordlicht.example"})

    assert response.status_code == 200
    assert str(DUPLICATE_EMAIL) in response.content.decode()
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("website", "not a website"),
        ("linkedin", "javascript:alert(1)"),
        ("salesforce_id", "0035g00000ABCDEA"),
        ("salesforce_id", "too-short"),
        ("first_name", "x" * 101),
        ("email", "anna-at-example"),
    ],
)
def test_bad_values_are_shown_next_to_their_field(rep_client, field, value):
    response = rep_client.post(NEW, {"email": "new@example.com", field: value})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in html
    assert not Contact.objects.exists()


def test_a_sales_rep_edits_a_person(rep_client):
    contact = ContactFactory(permission_type="legitimate_interest")

    form = rep_client.get(edit_url(contact)).content.decode()
    response = rep_client.post(
        edit_url(contact),
        {"email": contact.email, "company": "Helsinki Data Oy", "title": "CTO"},
    )

    assert contact.email in form
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.company, contact.title) == ("Helsinki Data Oy", "CTO")
    assert contact.permission_type == "legitimate_interest"


def test_editing_to_a_taken_email_is_refused(rep_client):
    ContactFactory(email="taken@example.com")
    contact = ContactFactory()

    response = rep_client.post(edit_url(contact), {"email": "Taken@Example.com"})

    assert str(DUPLICATE_EMAIL) in response.content.decode()
    contact.refresh_from_db()
    assert contact.email != "Taken@Example.com"


def test_person_details_link_to_edit_and_people_to_new(rep_client):
    contact = ContactFactory()

    detail = rep_client.get(contact.get_absolute_url()).content.decode()
    people = rep_client.get(reverse("contacts:people")).content.decode()

    assert edit_url(contact) in detail
    assert NEW in people
