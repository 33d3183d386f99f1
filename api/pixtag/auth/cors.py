"""CORS for browser clients on other origins (``PIXTAG_CORS_ORIGINS``; none by default).

A preflight from a listed origin is answered here, before routing, with
Authorization allowed; every response to a listed origin (streamed ones
too: the hook runs as headers go out) names it in Access-Control-Allow-Origin.
Other origins get nothing, so browsers keep them out. A small middleware,
since aiohttp-cors wants every route registered with it one by one.
"""

from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE"
HEADERS = "Authorization, Content-Type, Accept, If-Match, If-None-Match, Range, X-Share-Password"
EXPOSED = "Location, ETag, Content-Range, Retry-After, WWW-Authenticate"
MAX_AGE = "600"


def setup(app: web.Application, origins: Iterable[str]) -> Middleware:
    """Answer preflights for ``origins`` and mark their responses; the middleware to install."""
    allowed = frozenset(origin.rstrip("/") for origin in origins)

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if (
            request.method == "OPTIONS"
            and origin in allowed
            and "Access-Control-Request-Method" in request.headers
        ):
            return web.Response(
                status=204,
                headers={
                    "Access-Control-Allow-Methods": METHODS,
                    "Access-Control-Allow-Headers": HEADERS,
                    "Access-Control-Max-Age": MAX_AGE,
                },
            )
        return await handler(request)

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED
        if allowed:
            response.headers.add("Vary", "Origin")

    app.on_response_prepare.append(on_prepare)
    return preflight
