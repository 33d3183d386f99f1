"""The auth middleware: each route's declared scope against the request's token.

It is installed only when auth is on, so a server with auth off pays
nothing per request. Public routes pass untouched; a read without a token
passes when anonymous reads are allowed; otherwise the token must be valid
(401) and its scope must cover the route's (403). Routes nobody routed (404,
405) pass to aiohttp's own answer.
"""

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from pixtag import keys
from pixtag.auth.access import declared, scope_for
from pixtag.auth.authenticator import AUTH
from pixtag.auth.tokens import Principal
from pixtag.db.stream import STREAM_CLIENT
from pixtag.errors import Forbidden

log = logging.getLogger(__name__)

PRINCIPAL = web.RequestKey("principal", Principal)


class UndeclaredRoute(Exception):
    """A route with no access declaration: a bug, refused rather than guessed."""


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    match_info = request.match_info
    access = declared(match_info.route)
    if access is None:
        if match_info.http_exception is not None:
            return await handler(request)
        raise UndeclaredRoute(f"{request.method} {match_info.route.resource} declares no access")
    needed = scope_for(access, request.method)
    if needed is None or needed == "public":
        return await handler(request)  # not a method of the route (405), or public
    auth = request.app[AUTH]
    header = request.headers.get("Authorization")
    if header is None and needed == "read" and auth.anonymous_read:
        return await handler(request)
    principal = await auth.authenticate(request.app[keys.DATABASE], header)
    if not principal.allows(needed):  # type: ignore[arg-type]
        raise Forbidden(
            f"This needs a token with the {needed} scope; this one has {principal.scope}",
            scope=needed,
        )
    request[PRINCIPAL] = principal
    if principal.token_id is not None:
        # A listing counts against its token's share of the stream slots (db.stream).
        STREAM_CLIENT.set(f"token {principal.token_id}")
    return await handler(request)
