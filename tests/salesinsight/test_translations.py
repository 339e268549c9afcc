"""The French catalog: complete, compiled, and used by every page and email.

The completeness test extracts the marked strings from a temporary copy of the
code (the repository's own files are never touched) and fails on any string
the committed catalog lacks, leaves empty or marks fuzzy.
"""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOG = Path("locale", "fr", "LC_MESSAGES")
PO = ROOT / CATALOG / "django.po"
MO = ROOT / CATALOG / "django.mo"
# What `make messages` leaves out (MESSAGES_IGNORE in the Makefile), plus what
# makemessages would never read anyway.
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "vendor",
    "tests",
    "bench",
    "var",
    "staticfiles",
    "test-artifacts",
    "*.egg-info",
    "locale",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
)
HOW_TO_FIX = "Run `make messages`, translate the new entries in {po}, commit both."


@pytest.fixture(scope="module")
def gettext_tools():
    missing = [tool for tool in ("xgettext", "msgfmt") if not shutil.which(tool)]
    if missing:
        pytest.skip(
            f"needs GNU gettext ({', '.join(missing)} missing): apt-get install gettext"
        )


def extract_marked_strings(copy: Path) -> polib.POFile:
    """Run makemessages over a copy of the code; return the fresh catalog."""
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED)
    (copy / CATALOG).mkdir(parents=True)
    environment = {**os.environ, "DEBUG": "1"}
    environment["DJANGO_SETTINGS_MODULE"] = "salesinsight.settings"
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=copy,
        env=environment,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return polib.pofile(str(copy / CATALOG / "django.po"))


def test_every_marked_string_has_a_french_translation(gettext_tools, tmp_path):
    fresh = extract_marked_strings(tmp_path / "code")
    committed = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(PO))}

    untranslated = [
        entry
        for entry in fresh
        if (entry.msgctxt, entry.msgid) not in committed
        or not committed[(entry.msgctxt, entry.msgid)].translated()
    ]

    assert not untranslated, (
        f"{len(untranslated)} marked strings have no French translation "
        "(missing, empty or fuzzy):\n"
        + "\n".join(
            f"  - {e.msgid!r}" + (f" (context {e.msgctxt!r})" if e.msgctxt else "")
            for e in untranslated
        )
        + "\n"
        + HOW_TO_FIX.format(po=PO.relative_to(ROOT))
    )


def test_the_compiled_catalog_is_up_to_date_with_the_po_file(gettext_tools, tmp_path):
    compiled = tmp_path / "django.mo"

    check = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(PO)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert check.returncode == 0, f"msgfmt refused {PO.name}:\n{check.stderr}"
    with compiled.open("rb") as fresh, MO.open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        actual = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    assert actual == expected, (
        f"{MO.relative_to(ROOT)} does not match {PO.name}. "
        + HOW_TO_FIX.format(po=PO.relative_to(ROOT))
    )
