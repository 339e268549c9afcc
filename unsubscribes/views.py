import logging
import posixpath
import smtplib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import SignedInRequest
from contacts.models import Contact
from unsubscribes import mail, ratelimit, selectors, services, tokens
from unsubscribes.choices import Action, Channel
from unsubscribes.forms import ResubscribeForm, SendEmailForm
from unsubscribes.models import SubscriptionChange

logger = logging.getLogger(__name__)

# What the recipient's side of the history says did it.
RECIPIENT = "Recipient"


@login_required
@permission_required("unsubscribes.unsubscribe_contact", raise_exception=True)
@require_POST
def person_unsubscribe(request: SignedInRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    changed = services.contact_unsubscribe(
        contact_id=contact.pk, channel=Channel.USER, actor=request.user
    )
    if changed:
        messages.success(request, _("Unsubscribed. No email will be sent to them."))
    else:
        messages.info(request, _("Already unsubscribed. Nothing changed."))
    return redirect(contact)


@login_required
@permission_required("unsubscribes.send_email", raise_exception=True)
@require_http_methods(["GET", "POST"])
def send_email(request: SignedInRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    form = SendEmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            mail.email_send(
                contact_id=contact.pk,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                sender=request.user,
            )
        except mail.EmailRefused as refused:
            form.add_error(None, str(refused))
        except (smtplib.SMTPException, OSError) as error:
            # Only the error's type: smtplib puts the addresses in its messages.
            logger.warning(
                "Email to contact %s failed at the mail server: %s",
                contact.pk,
                type(error).__name__,
            )
            form.add_error(
                None, _("Not sent: the mail server did not answer. Try again later.")
            )
        else:
            messages.success(request, _("Email sent."))
            return redirect(contact)
    return render(
        request,
        "unsubscribes/send_email.html",
        {"contact": contact, "form": form, "refusal": mail.refusal(contact)},
    )


@login_required
@permission_required("unsubscribes.resubscribe_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def resubscribe(request: SignedInRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    if request.method == "POST":
        form = ResubscribeForm(request.POST, request.FILES)
    else:
        form = ResubscribeForm()
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_resubscribe(
                contact_id=contact.pk, actor=request.user, proof=form.proof()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                _("Resubscribed, with Consent recorded on the Compliance card."),
            )
            return redirect(contact)
    return render(
        request,
        "unsubscribes/resubscribe.html",
        {
            "contact": contact,
            "form": form,
            "latest_unsubscribe_at": selectors.latest_unsubscribe_at(
                contact_id=contact.pk
            ),
        },
    )


@login_required
@permission_required("unsubscribes.download_evidence", raise_exception=True)
@require_GET
def evidence_download(request: SignedInRequest, change_id: int) -> FileResponse:
    change = get_object_or_404(
        SubscriptionChange, pk=change_id, action=Action.RESUBSCRIBE
    )
    if not change.evidence_file:
        raise Http404
    extension = posixpath.splitext(change.evidence_file.name or "")[1]
    logger.info(
        "Evidence of subscription change %s downloaded by user %s",
        change.pk,
        request.user.pk,
    )
    # Always a download, never rendered: an uploaded HTML or SVG file must not
    # run in the app's origin.
    return FileResponse(
        change.evidence_file.open("rb"),
        as_attachment=True,
        filename=f"evidence-{change.pk}{extension}",
        content_type="application/octet-stream",
    )


def _rate_limited(request: HttpRequest) -> bool:
    """Count this request against its client's limit; say if it is over.

    The counts live in Redis. Without Redis the request goes through
    uncounted: losing an unsubscribe is worse than a pause in the limit, and
    the signed tokens cannot be guessed anyway.
    """
    try:
        return ratelimit.over_limit(
            "public-unsubscribe",
            request.META["REMOTE_ADDR"],
            settings.UNSUBSCRIBE_RATE_LIMIT,
        )
    except Exception as error:
        logger.warning("Unsubscribe rate limit not counted: %s", type(error).__name__)
        return False


def _chosen_language(request: HttpRequest) -> str:
    """Return the language a recipient picked with ?language=, else ""; use it.

    The public pages set no cookie, so they cannot use set_language (which
    needs a CSRF cookie and stores the choice in another): the choice travels
    in the URL instead, and the browser's Accept-Language decides without it.
    """
    code = request.GET.get("language", "")
    if code not in dict(settings.LANGUAGES):
        return ""
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code


# The one view of the app without CSRF protection: mail clients POST here
# without cookies or a token (RFC 8058), and the signed token in the path is
# what authorises the request. The rate limit counts every method and every
# outcome, so tokens cannot be tried in bulk.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def public_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    language = _chosen_language(request)
    if _rate_limited(request):
        return render(request, "unsubscribes/too_many_requests.html", status=429)
    contact_id = tokens.contact_id_from_token(token)
    if contact_id is None:
        raise Http404

    # GET and HEAD change nothing: mail scanners fetch every link they see.
    if request.method != "POST":
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Http404
        return render(
            request,
            "unsubscribes/confirm.html",
            {"token": token, "language": language},
        )

    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    try:
        services.contact_unsubscribe(
            contact_id=contact_id,
            channel=Channel.ONE_CLICK if one_click else Channel.UNSUBSCRIBE_LINK,
            actor_name=RECIPIENT,
        )
    except Contact.DoesNotExist:
        # The service's row lock is the existence check: an erased contact's
        # token gets the same 404 as a forged one.
        raise Http404 from None
    if one_click:
        # A mail client posts this in the background and shows nobody the
        # answer (RFC 8058), so it gets one plain sentence rather than the
        # page: rendering it would cost more than the unsubscribe itself.
        return HttpResponse(
            _("You are unsubscribed"), content_type="text/plain; charset=utf-8"
        )
    return render(request, "unsubscribes/done.html")
