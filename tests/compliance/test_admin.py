"""The Django admin: contacts with their compliance fields, history read-only."""

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.models import ComplianceChange
from compliance.services import compliance_update
from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PURPOSE = "Sending product updates and event invitations by email."


@pytest.fixture
def change(sales_rep):
    contact = ContactFactory()
    compliance_update(
        contact_id=contact.pk,
        changes={"source_type": "import"},
        channel="card",
        actor=sales_rep,
    )
    return ComplianceChange.objects.get()


def contact_form(contact, **fields) -> dict:
    data = {
        field: getattr(contact, field) or ""
        for field in (
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
            "salesforce_id",
            "permission_type",
            "consent_date",
            "consent_expires_on",
            "processing_purpose",
            "permission_type_description",
            "source_type",
            "source_type_description",
            "last_activity_at",
        )
    }
    inline = contact.compliance_changes.count() if contact.pk else 0
    data.update(
        {
            "compliance_changes-TOTAL_FORMS": inline,
            "compliance_changes-INITIAL_FORMS": inline,
            "compliance_changes-MIN_NUM_FORMS": 0,
            "compliance_changes-MAX_NUM_FORMS": 1000,
        }
    )
    data.update(fields)
    return data


def test_admins_read_the_history(admin_client, change):
    changelist = admin_client.get(
        reverse("admin:compliance_compliancechange_changelist")
    )
    detail = admin_client.get(
        reverse("admin:compliance_compliancechange_change", args=[change.pk])
    )

    assert changelist.status_code == 200
    assert '<td class="field-new_value">import</td>' in changelist.content.decode()
    assert reverse("admin:compliance_compliancechange_add") not in (
        changelist.content.decode()
    )
    assert detail.status_code == 200


def test_nobody_adds_changes_or_deletes_history_in_the_admin(admin_client, change):
    add = admin_client.get(reverse("admin:compliance_compliancechange_add"))
    edit = admin_client.post(
        reverse("admin:compliance_compliancechange_change", args=[change.pk]),
        {"new_value": "forged"},
    )
    delete = admin_client.post(
        reverse("admin:compliance_compliancechange_delete", args=[change.pk]),
        {"post": "yes"},
    )

    assert add.status_code == 403
    assert edit.status_code == 403
    assert delete.status_code == 403
    change.refresh_from_db()
    assert change.new_value == "import"


def test_the_contact_admin_filters_by_permission_and_source_type(admin_client):
    ContactFactory(email="consent@example.com", permission_type="contract")
    ContactFactory(email="other@example.com", source_type="import")
    url = reverse("admin:contacts_contact_changelist")

    by_permission = admin_client.get(url, {"permission_type": "contract"})
    by_source = admin_client.get(url, {"source_type__exact": "import"})

    assert "consent@example.com" in by_permission.content.decode()
    assert "other@example.com" not in by_permission.content.decode()
    assert "other@example.com" in by_source.content.decode()
    assert "consent@example.com" not in by_source.content.decode()


def test_a_compliance_edit_in_the_admin_is_recorded_with_channel_admin(
    admin_client, admin_user
):
    contact = ContactFactory(company="Before")

    response = admin_client.post(
        reverse("admin:contacts_contact_change", args=[contact.pk]),
        contact_form(
            contact,
            company="After",
            permission_type="consent",
            consent_date=TODAY.isoformat(),
            processing_purpose=PURPOSE,
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    contact.refresh_from_db()
    assert (contact.company, contact.permission_type) == ("After", "consent")
    assert contact.compliance_version == 1
    assert list(
        ComplianceChange.objects.values_list("channel", "field", "actor_id")
    ) == [
        ("admin", "permission_type", admin_user.pk),
        ("admin", "consent_date", admin_user.pk),
        ("admin", "processing_purpose", admin_user.pk),
    ]


def test_the_admin_applies_the_same_rules(admin_client):
    contact = ContactFactory()

    response = admin_client.post(
        reverse("admin:contacts_contact_change", args=[contact.pk]),
        contact_form(contact, company="After", permission_type="consent"),
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    contact.refresh_from_db()
    assert (contact.company, contact.permission_type) != ("After", "consent")
    assert not ComplianceChange.objects.exists()


def test_a_contact_added_in_the_admin_gets_its_history(admin_client):
    response = admin_client.post(
        reverse("admin:contacts_contact_add"),
        contact_form(Contact(), email="new@example.com", source_type="crm_sync"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    contact = Contact.objects.get(email="new@example.com")
    assert list(
        ComplianceChange.objects.filter(contact=contact).values_list(
            "channel", "field", "new_value"
        )
    ) == [("admin", "source_type", "crm_sync")]


def test_the_contact_admin_shows_the_history_read_only(admin_client, change):
    response = admin_client.get(
        reverse("admin:contacts_contact_change", args=[change.contact_id])
    )

    html = response.content.decode()
    assert "Compliance history" in html
    assert 'name="compliance_changes-0-new_value"' not in html
    assert "import" in html


def test_an_admin_deleting_a_contact_erases_it_and_keeps_its_history(
    admin_client, change
):
    url = reverse("admin:contacts_contact_delete", args=[change.contact_id])

    confirmation = admin_client.get(url)
    response = admin_client.post(url, {"post": "yes"})

    assert "Cannot delete" not in confirmation.content.decode()
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=change.contact_id).exists()
    assert list(
        ComplianceChange.objects.values_list("pk", "contact_id", "new_value")
    ) == [(change.pk, None, "import")]
