"""Read the URLconf: every pattern, its full name, arguments and accepted methods."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from salesinsight.access import ADMIN_NAMESPACE

# Every method the matrix test sends; OPTIONS and TRACE are left to the server.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    """One URL pattern of the app, as the access matrix test visits it."""

    name: str
    route: str
    callback: Callable
    arguments: tuple[str, ...]
    named: bool

    @property
    def is_admin(self) -> bool:
        return self.name.startswith(f"{ADMIN_NAMESPACE}:")

    @property
    def key(self) -> str:
        return self.name if self.named else f"{self.name}{self.route}"


def routes(resolver=None, namespace: str = "", prefix: str = "", arguments=()):
    """Yield every URL pattern of the URLconf, depth first."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        here = (*arguments, *entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from routes(entry, inner, prefix + str(entry.pattern), here)
        elif isinstance(entry, URLPattern):
            yield Route(
                name=f"{namespace}{entry.name or ''}",
                route=prefix + str(entry.pattern),
                callback=entry.callback,
                arguments=here,
                named=entry.name is not None,
            )


def accepted_methods(callback: Callable) -> set[str] | None:
    """Return the methods a view accepts, or None if it does not say.

    A class-based view says with http_method_names (HEAD comes with GET);
    a function view with django.views.decorators.http.require_http_methods
    (or require_GET, require_POST, require_safe), found in the closure of
    whichever decorator layer applied it.
    """
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        names = callback.view_initkwargs.get(
            "http_method_names", view_class.http_method_names
        )
        return {
            name.upper()
            for name in names
            if hasattr(view_class, name)
            or (name == "head" and hasattr(view_class, "get"))
        }
    for layer in _layers(callback):
        code = getattr(layer, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = layer.__closure__[code.co_freevars.index("request_method_list")]
            return {method.upper() for method in cell.cell_contents}
    return None


def _layers(callback: Callable) -> Iterator[Callable]:
    layer: Callable | None = callback
    while layer is not None:
        yield layer
        layer = getattr(layer, "__wrapped__", None)
