"""The two roles, their permissions, and the Django admin's door."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.roles import ADMIN, SALES_REP, SALES_REP_PERMISSIONS, permission_codes

pytestmark = pytest.mark.django_db


def test_both_roles_exist_as_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {SALES_REP, ADMIN}


def test_every_permission_named_for_sales_reps_exists():
    existing = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }

    assert SALES_REP_PERMISSIONS - existing == set()


@pytest.mark.parametrize("role", [SALES_REP, ADMIN])
def test_each_group_holds_exactly_its_declared_permissions(role):
    group = Group.objects.get(name=role)
    held = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }

    assert held == permission_codes(role)


def test_admins_hold_every_sales_rep_permission():
    assert permission_codes(SALES_REP) <= permission_codes(ADMIN)


@pytest.mark.parametrize(
    ("client_fixture", "expected_status"),
    [("rep_client", 403), ("outsider_client", 403), ("admin_client", 200)],
)
def test_only_admins_get_into_the_django_admin(
    request, client_fixture, expected_status
):
    client = request.getfixturevalue(client_fixture)

    response = client.get(reverse("admin:index"), follow=True)

    assert response.status_code == expected_status


def test_an_admin_can_open_the_contacts_changelist(admin_client):
    response = admin_client.get(reverse("admin:contacts_contact_changelist"))

    assert response.status_code == 200


def test_anonymous_admin_visitors_get_the_admin_login(client):
    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
