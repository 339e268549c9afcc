"""Security headers on real responses, under the production settings.

The suite's own settings turn HSTS off (salesinsight/test_settings.py), so
these requests run in a separate process on salesinsight.settings with DEBUG
off and a production-like environment, through Django's test client over
https (secure=True).
"""

import json
import os
import subprocess
import sys

import pytest

from tests.salesinsight.test_settings import PRODUCTION_ENV, ROOT, _manage

PROBE = """
import json
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(HTTP_HOST="crm.example.com")
answers = {}
for name, path, secure in [
    ("login", "/login/", True),
    ("people (anonymous)", "/people/", True),
    ("unsubscribe (bad token)", "/u/not-a-token/", True),
    ("admin login", "/admin/login/", True),
    ("static file", "/static/css/app.css", True),
    ("plain http", "/login/", False),
]:
    response = client.get(path, secure=secure)
    answers[name] = {
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {
            name: {**dict(morsel), "secure": bool(morsel["secure"])}
            for name, morsel in response.cookies.items()
        },
    }
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict:
    # The production storage needs collected files and their manifest; they
    # go to a directory of this test's own.
    static_root = str(tmp_path_factory.mktemp("static"))
    production = {**PRODUCTION_ENV, "STATIC_ROOT": static_root}
    result = _manage("collectstatic", "--noinput", "-v", "0", **production)
    assert result.returncode == 0, result.stderr
    variables = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT")
    clean = {k: v for k, v in os.environ.items() if k not in variables}
    process = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **clean,
            **production,
            "DJANGO_SETTINGS_MODULE": "salesinsight.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


HTTPS_PAGES = [
    "login",
    "people (anonymous)",
    "unsubscribe (bad token)",
    "admin login",
]


@pytest.mark.parametrize("page", HTTPS_PAGES)
def test_every_https_answer_carries_the_security_headers(answers, page):
    headers = answers[page]["headers"]

    assert headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in headers["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]


def test_the_csrf_cookie_is_secure_and_same_site(answers):
    cookie = answers["login"]["cookies"]["csrftoken"]

    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_the_login_page_is_never_cached(answers):
    assert "no-store" in answers["login"]["headers"]["Cache-Control"]


def test_plain_http_is_sent_to_https(answers):
    answer = answers["plain http"]

    assert answer["status"] == 301
    assert answer["headers"]["Location"] == "https://crm.example.com/login/"


def test_static_files_are_served_with_nosniff(answers):
    answer = answers["static file"]

    assert answer["status"] == 200
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"
