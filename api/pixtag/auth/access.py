"""Which scope each route needs: declared next to its handler, read by the middleware.

A view class declares ``access: ClassVar[dict[str, str]]`` mapping each HTTP
method it implements to ``public``, ``read``, ``write`` or ``admin`` (HEAD
follows GET unless it is named). A handler that is not a view (a function,
a static directory, a sub-application's pages) is declared with ``declare``.
A route with no declaration is a bug: ``route_access`` says None, the
middleware refuses it (500), and the route-table test fails.
"""

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from pixtag.auth.tokens import RANK

type AccessMap = Mapping[str, str]

# The attribute a resource whose handler is not a view carries its declaration in.
ATTRIBUTE = "pixtag_access"


def declare(target: Any, access: str | AccessMap) -> None:
    """Declare the scope of a route or resource whose handler is not a view.

    ``access`` is one scope for every method, or a mapping like a view's.
    """
    mapping = {"*": access} if isinstance(access, str) else dict(access)
    for scope in mapping.values():
        if scope not in RANK:
            raise ValueError(f"not a scope: {scope!r}")
    resource = getattr(target, "resource", None) or target
    setattr(resource, ATTRIBUTE, mapping)


def declared(route: web.AbstractRoute) -> AccessMap | None:
    """What ``route``'s handler declares, if anything."""
    access = getattr(route.handler, "access", None)
    if isinstance(access, Mapping):
        return access
    resource = route.resource
    if resource is not None:
        found = getattr(resource, ATTRIBUTE, None)
        if isinstance(found, Mapping):
            return found
    return None


def scope_for(access: AccessMap, method: str) -> str | None:
    """The scope ``method`` needs, under ``access``; None when it is not declared."""
    if method in access:
        return access[method]
    if method == "HEAD" and "GET" in access:
        return access["GET"]
    return access.get("*")


def route_access(route: web.AbstractRoute, method: str) -> str | None:
    """The scope a request with ``method`` on ``route`` needs (None: undeclared)."""
    access = declared(route)
    return None if access is None else scope_for(access, method)
