"""The Compliance card and history on Person Details."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.models import ComplianceChange
from compliance.rules import FUTURE_DATE, PURPOSE_MAX_LENGTH, REQUIRED
from compliance.selectors import HISTORY_PAGE_SIZE
from compliance.services import compliance_update
from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = timezone.localdate()
PURPOSE = "Sending product updates and event invitations by email."


@pytest.fixture
def contact():
    return ContactFactory(first_name="Anna", last_name="Müller")


def edit_url(contact) -> str:
    return reverse("compliance:card_edit", args=[contact.pk])


def card_post(contact, **fields) -> dict:
    return {
        "permission_type": "not_set",
        "consent_date": "",
        "processing_purpose": "",
        "permission_type_description": "",
        "source_type": "not_set",
        "source_type_description": "",
        "compliance_version": contact.compliance_version,
        **fields,
    }


def snapshot(contact) -> dict:
    return Contact.objects.filter(pk=contact.pk).values().get()


@pytest.mark.parametrize(
    "url_name", ["compliance:card", "compliance:card_edit", "compliance:history"]
)
def test_anonymous_users_are_sent_to_login(client, contact, url_name):
    response = client.get(reverse(url_name, args=[contact.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "url_name", ["compliance:card", "compliance:card_edit", "compliance:history"]
)
def test_users_without_a_role_are_refused(outsider_client, contact, url_name):
    response = outsider_client.get(reverse(url_name, args=[contact.pk]), **HTMX)

    assert response.status_code == 403


def test_an_outsider_cannot_save_the_card(outsider_client, contact):
    response = outsider_client.post(
        edit_url(contact), card_post(contact, permission_type="contract")
    )

    assert response.status_code == 403
    assert snapshot(contact)["permission_type"] == "not_set"


@pytest.mark.parametrize("client_fixture", ["rep_client", "admin_client"])
def test_person_details_show_the_card_and_the_history(request, client_fixture, contact):
    client = request.getfixturevalue(client_fixture)
    compliance_update(
        contact_id=contact.pk,
        changes={"source_type": "import"},
        channel="import",
        actor_name="importer",
    )

    html = client.get(contact.get_absolute_url()).content.decode()

    assert '<h2 id="compliance-title">Compliance</h2>' in html
    assert edit_url(contact) in html
    assert "Compliance history" in html
    assert "Not set → Import" in html
    assert "importer" in html


@pytest.mark.parametrize("client_fixture", ["rep_client", "admin_client"])
def test_both_roles_edit_the_card(request, client_fixture, contact):
    client = request.getfixturevalue(client_fixture)

    response = client.post(
        edit_url(contact),
        card_post(
            contact,
            permission_type="consent",
            consent_date=TODAY.isoformat(),
            processing_purpose=PURPOSE,
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == contact.get_absolute_url()
    row = snapshot(contact)
    assert (row["permission_type"], row["consent_date"]) == ("consent", TODAY)
    assert set(ComplianceChange.objects.values_list("channel", flat=True)) == {"card"}
    assert ComplianceChange.objects.count() == 3


def test_edit_swaps_the_card_for_a_form_in_place(rep_client, contact):
    response = rep_client.get(edit_url(contact), **HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="compliance-card"' in html
    assert f'hx-post="{edit_url(contact)}"' in html
    assert 'name="compliance_version" value="0"' in html
    assert 'data-show-when="permission_type=consent"' in html


def test_without_javascript_edit_is_a_whole_page(rep_client, contact):
    response = rep_client.get(edit_url(contact))

    html = response.content.decode()
    assert "<html" in html
    assert f'action="{edit_url(contact)}"' in html
    assert "js/compliance.js" in html


def test_cancel_restores_the_card(rep_client, contact):
    url = reverse("compliance:card", args=[contact.pk])

    partial = rep_client.get(url, **HTMX)
    page = rep_client.get(url)

    assert 'id="compliance-card"' in partial.content.decode()
    assert "<form" not in partial.content.decode()
    assert page.status_code == 302
    assert page["Location"] == contact.get_absolute_url()


def test_an_htmx_save_returns_the_card_and_refreshes_the_history(rep_client, contact):
    response = rep_client.post(
        edit_url(contact), card_post(contact, permission_type="contract"), **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "compliance-changed"
    assert "Performance of a contract" in html
    assert "<form" not in html


def test_consent_without_a_date_shows_the_error_and_saves_nothing(rep_client, contact):
    response = rep_client.post(
        edit_url(contact),
        card_post(contact, permission_type="consent", processing_purpose=PURPOSE),
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(
        rf'id="compliance_consent_date_error">\s*<li>{REQUIRED}</li>', html
    )
    assert 'aria-describedby="compliance_consent_date_error"' in html
    assert snapshot(contact)["permission_type"] == "not_set"
    assert not ComplianceChange.objects.exists()


def test_a_future_consent_date_is_refused(rep_client, contact):
    tomorrow = TODAY + datetime.timedelta(days=1)

    response = rep_client.post(
        edit_url(contact),
        card_post(
            contact,
            permission_type="consent",
            consent_date=tomorrow.isoformat(),
            processing_purpose=PURPOSE,
        ),
    )

    assert str(FUTURE_DATE) in response.content.decode()
    assert snapshot(contact)["consent_date"] is None


BAD_FORMS = st.fixed_dictionaries(
    {
        "permission_type": st.sampled_from(["consent", "other", "bogus", ""]),
        "consent_date": st.one_of(
            st.just(""),
            st.dates(min_value=TODAY + datetime.timedelta(days=1)).map(str),
            st.text(max_size=12),
        ),
        "processing_purpose": st.one_of(
            st.text(max_size=9),
            st.text(min_size=PURPOSE_MAX_LENGTH + 1, max_size=PURPOSE_MAX_LENGTH + 5),
            st.just("purpose with \x00 inside"),
        ),
        "permission_type_description": st.sampled_from(["", " ", "x" * 2001]),
        "source_type": st.sampled_from(["other", "nope", "", "import"]),
        "source_type_description": st.sampled_from(["", "\t", "y" * 2001]),
        "compliance_version": st.sampled_from(["0", "", "-1", "abc"]),
    }
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=BAD_FORMS)
def test_bad_input_is_a_field_error_never_a_500_and_never_saved(rep_client, data):
    contact, _ = Contact.objects.get_or_create(email="hypothesis@example.com")
    before = snapshot(contact)

    response = rep_client.post(edit_url(contact), data, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist' in html or 'role="alert"' in html
    assert snapshot(contact) == before
    assert not ComplianceChange.objects.exists()


def test_a_stale_save_is_refused_with_the_current_values(
    rep_client, contact, admin_user
):
    first = card_post(contact, permission_type="legitimate_interest")
    second = card_post(contact, permission_type="contract")
    rep_client.post(edit_url(contact), first)

    response = rep_client.post(edit_url(contact), second, **HTMX)

    html = response.content.decode()
    assert "Someone else changed this card" in html
    assert '<option value="legitimate_interest" selected>' in html
    assert 'name="compliance_version" value="1"' in html
    assert snapshot(contact)["permission_type"] == "legitimate_interest"
    assert ComplianceChange.objects.count() == 1


def test_the_history_reads_as_labels_newest_first(rep_client, contact, sales_rep):
    compliance_update(
        contact_id=contact.pk,
        changes={
            "permission_type": "consent",
            "consent_date": datetime.date(2024, 3, 1),
            "processing_purpose": PURPOSE,
        },
        channel="card",
        actor=sales_rep,
    )
    compliance_update(
        contact_id=contact.pk,
        changes={"permission_type": "legitimate_interest"},
        channel="bulk",
        actor=sales_rep,
    )

    response = rep_client.get(reverse("compliance:history", args=[contact.pk]), **HTMX)

    html = response.content.decode()
    assert html.index("Consent → Legitimate interest") < html.index("Not set → Consent")
    assert "Bulk action" in html
    assert "Compliance card" in html
    assert "Consent date" in html
    assert "March 1, 2024 → —" in html
    assert "legitimate_interest" not in html


class TestHistoryPaging:
    @pytest.fixture
    def long_history(self, contact):
        for number in range(HISTORY_PAGE_SIZE + 5):
            compliance_update(
                contact_id=contact.pk,
                changes={
                    "source_type": "other",
                    "source_type_description": f"Source number {number}.",
                },
                channel="card",
                actor_name="tester",
            )
        return contact

    def test_the_first_page_shows_the_newest_changes(self, rep_client, long_history):
        html = rep_client.get(long_history.get_absolute_url()).content.decode()

        assert "→ Source number 24." in html
        assert "→ Source number 4." not in html
        assert "Next page" in html

    def test_the_next_page_comes_as_a_partial_with_javascript(
        self, rep_client, long_history
    ):
        url = reverse("compliance:history", args=[long_history.pk])

        html = rep_client.get(f"{url}?history_page=2", **HTMX).content.decode()

        assert "<html" not in html
        assert "→ Source number 4." in html
        assert "→ Source number 24." not in html
        assert "Previous page" in html

    def test_the_next_page_works_without_javascript(self, rep_client, long_history):
        url = reverse("compliance:history", args=[long_history.pk])

        response = rep_client.get(f"{url}?history_page=2", follow=True)

        html = response.content.decode()
        assert "<html" in html
        assert "→ Source number 4." in html
        assert response.redirect_chain[0][0].endswith(
            "?history_page=2#compliance-history"
        )
