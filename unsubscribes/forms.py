from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from unsubscribes.models import EVIDENCE_EXTENSIONS
from unsubscribes.services import ConsentProof

TOO_LARGE = _("Upload a file of at most %(size)s.")
NOT_WHAT_IT_SAYS = _(
    "This file is not the kind its name says. Upload a real PDF, image, saved "
    "email or text file."
)

# How each kind of evidence file starts. Saved emails and text files are
# text: they must not hold NUL bytes, which a binary file in disguise would.
_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    # Outlook's .msg is an OLE2 compound file.
    "msg": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}


def _content_matches(upload, extension: str) -> bool:
    """Return True if the upload's first bytes fit its extension."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if extension in _SIGNATURES:
        return head.startswith(_SIGNATURES[extension])
    return b"\x00" not in head


SUBJECT_ONE_LINE = _("Keep the subject on one line.")


class SendEmailForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Body"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 10})
    )

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"]
        # A line break in a header would be refused by the mail library at
        # send time (a 500); it is a field error here instead.
        if "\n" in subject or "\r" in subject:
            raise ValidationError(SUBJECT_ONE_LINE)
        return subject


class ResubscribeForm(forms.Form):
    """The proof of new consent an Admin must give to resubscribe a person."""

    consent_date = forms.DateField(
        label=_("Consent date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    processing_purpose = forms.CharField(
        label=_("Processing purpose"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_obtained = forms.CharField(
        label=_("How consent was obtained"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    evidence_note = forms.CharField(
        label=_("Evidence note"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    evidence_file = forms.FileField(
        label=_("Evidence file"),
        required=False,
        help_text=_("PDF, image, saved email or text file."),
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS)],
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(f".{ext}" for ext in EVIDENCE_EXTENSIONS)}
        ),
    )

    def clean_evidence_file(self):
        upload = self.cleaned_data.get("evidence_file")
        if not upload:
            return upload
        if upload.size > settings.MAX_UPLOAD_BYTES:
            raise ValidationError(
                TOO_LARGE, params={"size": filesizeformat(settings.MAX_UPLOAD_BYTES)}
            )
        extension = upload.name.rsplit(".", 1)[-1].lower()
        if not _content_matches(upload, extension):
            raise ValidationError(NOT_WHAT_IT_SAYS)
        return upload

    def proof(self) -> ConsentProof:
        data = self.cleaned_data
        return ConsentProof(
            consent_date=data["consent_date"],
            processing_purpose=data["processing_purpose"],
            consent_obtained=data["consent_obtained"],
            evidence_note=data["evidence_note"],
            evidence_file=data["evidence_file"] or None,
        )

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's ValidationError next to the fields it names."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)
