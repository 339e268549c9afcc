"""The vocabulary of a contact's legal basis and origin.

These are the labels sales reps read in the UI; the compliance app owns the
rules that tie them to their dependent fields (compliance/rules.py).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PermissionType(models.TextChoices):
    NOT_SET = "not_set", _("Not set")
    CONSENT = "consent", _("Consent")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")
    CONTRACT = "contract", _("Performance of a contract")
    LEGAL_OBLIGATION = "legal_obligation", _("Compliance with a legal obligation")
    VITAL_INTERESTS = "vital_interests", _("Protection of vital interests")
    PUBLIC_INTEREST = "public_interest", _("Public interest / official authority")
    OTHER = "other", _("Other")


class SourceType(models.TextChoices):
    NOT_SET = "not_set", _("Not set")
    CRM_SYNC = "crm_sync", _("CRM sync")
    IMPORT = "import", _("Import")
    MANUAL_UPLOAD = "manual_upload", _("Manual upload")
    CHROME_EXTENSION = "chrome_extension", _("Chrome extension")
    OTHER = "other", _("Other")
