"""Refuse request bodies larger than any form of the app takes."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

# Room for the form's other fields and the multipart framing around a file.
FORM_ALLOWANCE = 1024 * 1024


class RequestBodyLimitMiddleware:
    """Answer 413, with a page that says so, before reading an oversized body.

    Django caps the size of form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not
    of uploaded files, which it streams to a temporary file whatever their
    size. The largest body the app takes is one upload of MAX_UPLOAD_BYTES
    with its form (FORM_ALLOWANCE); anything larger is refused here, from
    its Content-Length, without reading a byte of it. A body without a
    Content-Length is read as empty by Django, so it cannot slip past.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_UPLOAD_BYTES + FORM_ALLOWANCE:
            return render(
                request,
                "413.html",
                {"limit": filesizeformat(settings.MAX_UPLOAD_BYTES)},
                status=413,
            )
        return self.get_response(request)
