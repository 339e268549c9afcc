"""Only the one-click unsubscribe endpoint may skip CSRF protection."""

from django.urls import URLPattern, URLResolver, get_resolver

# One-click unsubscribe (RFC 8058) is POSTed by mail clients with no cookie and
# no token; the signed token in its URL is what authorises it.
CSRF_EXEMPT_ALLOWED = {"unsubscribes:unsubscribe"}


def _named_views(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            yield from _named_views(entry, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry.callback


def test_no_view_but_the_allowed_ones_is_csrf_exempt():
    exempt = {
        name for name, view in _named_views() if getattr(view, "csrf_exempt", False)
    }

    assert exempt <= CSRF_EXEMPT_ALLOWED
