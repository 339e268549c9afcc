from typing import Any

from django import forms
from django.conf import settings
from django.db import models
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _
from import_export.forms import ImportForm

from contacts.models import Contact
from contacts.services import CONTACT_FIELDS


def _formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        # Django 6 assumes https for scheme-less URLs; say so now.
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ContactForm(forms.Form):
    """A contact's own fields, for creating and editing people by hand.

    A plain form built from the model's fields: uniqueness is checked by the
    service (contacts.services), which reports it with readable messages.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                Contact, fields=CONTACT_FIELDS, formfield_callback=_formfield
            )
        )

    @classmethod
    def for_contact(cls, contact: Contact) -> "ContactForm":
        """Return an unbound form showing the contact's current values."""
        return cls(initial={field: getattr(contact, field) for field in CONTACT_FIELDS})

    def add_service_errors(self, error: forms.ValidationError) -> None:
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


MEGABYTE = 1024 * 1024


def _refuse_oversized(upload, advice: str) -> None:
    limit = settings.MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise forms.ValidationError(
            _("This file is larger than %(limit)s MB.") % {"limit": limit // MEGABYTE}
            + " "
            + advice
        )


class ImportUploadForm(forms.Form):
    """A CSV or XLSX file of contacts, refused above settings.MAX_UPLOAD_BYTES."""

    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8) or XLSX. Columns: email (required), first_name, "
            "last_name, company, title, phone_number, website, other, facebook, "
            "twitter, linkedin."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        _refuse_oversized(upload, _("Split it into smaller files and import each one."))
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


class AdminImportForm(ImportForm):
    """The Django admin's import form, refusing files above MAX_UPLOAD_BYTES.

    The admin previews the whole file inside the request by its own design
    (django-import-export reads it into memory), so large files are sent to
    the People page, whose preview runs in the background.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["import_file"].help_text = _(
            "This page checks the whole file while you wait. Import large "
            "files from the People page (Import), which checks them in the "
            "background."
        )

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        _refuse_oversized(
            upload,
            _(
                "Split it into smaller files and import them from the People "
                "page (Import), which checks large files in the background."
            ),
        )
        return upload
