"""The interface in French: chosen from the browser or the switch, everywhere."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from contacts.choices import PermissionType
from overview.services import summary_refresh
from tests.factories import ContactFactory, contacts_in_bulk
from unsubscribes import mail, tokens

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("overview:overview")
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,en;q=0.5"}


def test_the_browser_language_chooses_french(rep_client):
    html = rep_client.get(reverse("contacts:people"), **FRENCH).content.decode()

    assert '<html lang="fr">' in html
    assert ">Personnes<" in html
    assert "Se déconnecter" in html
    assert "Base légale" in html


def test_the_switch_in_the_user_menu_keeps_french_whatever_the_browser_says(
    rep_client,
):
    people = rep_client.get(reverse("contacts:people")).content.decode()
    assert 'action="/i18n/setlang/"' in people
    assert 'name="language" value="fr"' in people

    response = rep_client.post(
        reverse("set_language"), {"language": "fr", "next": OVERVIEW}
    )

    assert response.status_code == 302
    assert response["Location"] == OVERVIEW
    html = rep_client.get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Vue d'ensemble de la conformité</h1>" in html


def test_numbers_and_dates_follow_the_language_but_chart_geometry_does_not(
    rep_client,
):
    contacts_in_bulk(1200, permission_type=PermissionType.CONSENT)
    contacts_in_bulk(300)
    summary_refresh()

    english = rep_client.get(OVERVIEW).content.decode()
    french = rep_client.get(OVERVIEW, **FRENCH).content.decode()

    assert "1,500 contacts in all." in english
    assert "Consent: 1,200 (80.0%)" in english
    # Django's French formats group thousands with a no-break space.
    assert "1\xa0500 contacts au total." in french
    assert "Consentement\u202f: 1\xa0200 (80,0\u202f%)" in french
    assert re.search(r"Chiffres arrêtés au \d+ \w+ \d{4} \d\d:\d\d \(UTC\)", french)
    # SVG coordinates are numbers for the browser, never "12,5".
    geometry = re.findall(r' (?:x|y|width|height|x1|x2|y1|y2)="([^"]*)"', french)
    assert geometry
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", value) for value in geometry)
    assert re.search(r'viewBox="0 0 \d+ \d+"', french)


def test_the_login_page_offers_the_switch_before_anyone_logs_in(client):
    html = client.get(reverse("login"), **FRENCH).content.decode()

    assert "Se connecter" in html
    assert 'name="language" value="en"' in html


def test_the_public_unsubscribe_pages_speak_the_recipients_language(client):
    contact = ContactFactory()
    url = reverse(
        "unsubscribes:unsubscribe", args=[tokens.unsubscribe_token(contact.pk)]
    )

    page = client.get(url, **FRENCH)
    done = client.post(url, **FRENCH).content.decode()

    html = page.content.decode()
    assert "Vous désabonner de nos e-mails\u202f?" in html
    assert ">Se désabonner</button>" in html
    assert "Vous êtes désabonné" in done
    # The public pages set no cookie, the language switch included.
    assert 'href="?language=en"' in html
    assert not page.cookies


def test_a_recipient_can_switch_the_public_page_to_french_without_a_cookie(client):
    contact = ContactFactory()
    url = reverse(
        "unsubscribes:unsubscribe", args=[tokens.unsubscribe_token(contact.pk)]
    )

    page = client.get(f"{url}?language=fr", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    done = client.post(f"{url}?language=fr", HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="fr">' in html
    assert f'action="{url}?language=fr"' in html
    assert not page.cookies
    assert "Vous êtes désabonné" in done.content.decode()
    contact.refresh_from_db()
    assert contact.is_unsubscribed


def test_an_unknown_language_on_the_public_page_is_ignored(client):
    contact = ContactFactory()
    url = reverse(
        "unsubscribes:unsubscribe", args=[tokens.unsubscribe_token(contact.pk)]
    )

    html = client.get(f"{url}?language=xx").content.decode()

    assert '<html lang="en">' in html
    assert f'action="{url}"' in html


def test_the_email_footer_is_in_the_email_language_not_the_senders(settings):
    contact = ContactFactory()

    with translation.override("fr"):
        english = mail.email_compose(contact=contact, subject="Bonjour", body="Texte")
    settings.EMAIL_LANGUAGE = "fr"
    french = mail.email_compose(contact=contact, subject="Hello", body="Text")

    assert "To stop receiving these emails, unsubscribe:" in english.body
    assert "Pour ne plus recevoir ces e-mails, désabonnez-vous :" in french.body
    html = french.alternatives[0][0]
    assert ">désabonnez-vous</a>" in html
