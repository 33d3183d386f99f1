"""What each route declares, read in one walk: its scope, and its operations' facts.

Each view declares its scopes once (``access``, see ``pixtag.auth.access``)
and, next to them, what its operations say beyond their annotations
(``operations``, see ``pixtag.openapi.fragments``). ``declarations`` reads
both from the app's route table, so the document cannot disagree with what
the middleware enforces; ``secure`` writes the security part. (aiohttp-pydantic's own
``security`` module would want a second declaration per handler, with its
own middleware.) A public operation says ``security: []``; the others name
the bearer scheme, their scope (``x-scope``), and their 401 and 403.
"""

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from pixtag.auth.access import declared, scope_for
from pixtag.openapi.document import operations

SCHEME = "bearerAuth"
SCHEMES = {
    SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (pxt_...) from `pixtag tokens create` or POST /tokens."
        " Needed when auth is on (PIXTAG_AUTH, or any non-loopback address).",
    }
}
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
CHALLENGE = {
    "WWW-Authenticate": {
        "description": 'Bearer realm="pixtag", with error="invalid_token" or'
        ' error="insufficient_scope" as RFC 6750 says.',
        "schema": {"type": "string"},
    }
}
REFUSALS = {
    "401": "No token, or one that is unknown, expired or revoked (auth on).",
    "403": "The token's scope does not cover this operation.",
}
PATTERN = re.compile(r"\{(\w+):[^}]+\}")


@dataclass(frozen=True)
class Declared:
    """What a route declares for one method: its scope, whether a public route takes a Bearer
    token too (``bearer_accepted``: /media with signed URLs), its operation's facts."""

    scope: str
    bearer: bool
    facts: dict[str, Any]


def declarations(app: web.Application) -> dict[tuple[str, str], Declared]:
    """(method, document path) -> what its route declares."""
    table: dict[tuple[str, str], Declared] = {}
    for route in app.router.routes():
        access = declared(route)
        resource = route.resource
        if access is None or resource is None:
            continue
        path = PATTERN.sub(r"{\1}", resource.canonical)
        bearer = bool(getattr(route.handler, "bearer_accepted", False))
        operations = getattr(route.handler, "operations", {})
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
            scope = scope_for(access, method)
            if scope is not None:
                facts = operations.get(method, {})
                table[(method.lower(), path)] = Declared(scope, bearer, facts)
    return table


def secure(spec: dict[str, Any], table: dict[tuple[str, str], Declared]) -> dict[str, Any]:
    """``spec`` with the bearer scheme and every operation's security."""
    spec.setdefault("components", {})["securitySchemes"] = SCHEMES
    for method, path, operation in operations(spec):
        found = table.get((method, path))
        if found is None:
            raise LookupError(f"{method.upper()} {path} declares no access")
        scope, bearer = found.scope, found.bearer
        if scope == "public":
            # Anonymous; or, where a token is taken too, either.
            operation["security"] = [{}, {SCHEME: []}] if bearer else []
            continue
        operation["security"] = [{SCHEME: []}]
        operation["x-scope"] = scope
        responses = operation.setdefault("responses", {})
        for status, text in REFUSALS.items():
            responses.setdefault(status, {"description": text, "content": PROBLEM})
            responses[status]["headers"] = CHALLENGE
    return spec
