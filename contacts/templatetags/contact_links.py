"""Show a contact's stored web address as a link only when it is safe to follow."""

from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html

register = template.Library()

LINK_SCHEMES = ("http", "https")


@register.filter
def external_link(url: str) -> str:
    """Return a link to `url` if it is http(s), else the address as plain text.

    The forms accept only http(s) addresses, but a value can also arrive by
    import, by the Salesforce sync or straight from the database; a
    javascript: or data: address must never become something to click.
    """
    address = (url or "").strip()
    if not address:
        return ""
    try:
        scheme = urlsplit(address).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in LINK_SCHEMES:
        return format_html("{}", address)
    return format_html(
        '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>',
        address,
        address,
    )
