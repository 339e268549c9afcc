"""The request type of the app's signed-in views, for the type checker.

Django types `request.user` as a User or an AnonymousUser, and knows nothing
of the `htmx` attribute that django-htmx's middleware sets on every request.
Behind login_required the user is a real User; annotating such a view's
request as `SignedInRequest` says so once instead of at every use.
"""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class SignedInRequest(HttpRequest):
    """A request that passed login_required, with django-htmx's details."""

    user: User  # narrowed by login_required
    htmx: HtmxDetails
