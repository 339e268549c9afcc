"""Settings read from the environment fail loudly and pass the deploy check."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#p0-production-like-secret-key-that-is-long-enough-4b1f9e2d8c",
    "ALLOWED_HOSTS": "crm.example.com",
    "DATABASE_URL": "sqlite:////tmp/salesinsight-deploy-check.sqlite3",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SALESFORCE_"))
    }
    for name in (
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "SECURE_SSL_REDIRECT",
        "SITE_URL",
    ):
        clean.pop(name, None)
    clean.update(env, DJANGO_SETTINGS_MODULE="salesinsight.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_malformed_database_url_names_the_variable():
    result = _manage(
        "check", **{**PRODUCTION_ENV, "DATABASE_URL": "postgres://u@h:port/db"}
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DATABASE_URL is malformed" in result.stderr


def test_an_unknown_database_scheme_names_the_variable():
    result = _manage("check", **{**PRODUCTION_ENV, "DATABASE_URL": "nosuchdb://x/y"})

    assert result.returncode != 0
    assert "DATABASE_URL is malformed" in result.stderr


def test_a_malformed_boolean_is_refused():
    result = _manage("check", **{**PRODUCTION_ENV, "DEBUG": "perhaps"})

    assert result.returncode != 0
    assert "DEBUG is malformed" in result.stderr


def test_export_connections_must_be_a_whole_number_of_one_or_more():
    zero = _manage("check", **{**PRODUCTION_ENV, "EXPORT_COPY_CONNECTIONS": "0"})
    words = _manage("check", **{**PRODUCTION_ENV, "EXPORT_COPY_CONNECTIONS": "two"})

    assert zero.returncode != 0
    assert "EXPORT_COPY_CONNECTIONS must be 1 or more" in zero.stderr
    assert words.returncode != 0
    assert "EXPORT_COPY_CONNECTIONS is malformed" in words.stderr


def test_debug_off_without_a_secret_key_is_refused():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = _manage("check", **env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


# A production deployment keeps Salesforce in step (salesforce_sync).
SALESFORCE_ENV = {
    "SALESFORCE_USERNAME": "sync@example.com",
    "SALESFORCE_PASSWORD": "a-password",
    "SALESFORCE_SECURITY_TOKEN": "a-token",
}


def test_production_settings_pass_the_deploy_check_with_no_warning():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION_ENV,
        **SALESFORCE_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_deploy_check_says_the_salesforce_sync_is_off_without_failing():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "salesforce_sync.I001" in result.stderr
    assert "Salesforce sync is off" in result.stderr
