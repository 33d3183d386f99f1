"""Who may fetch ``/media`` when media is behind auth: a signed URL, or a token.

Signed URLs are what the API's redirects hand out (browsers and ``<img>``
tags carry no token); a client that sends its Bearer token may fetch a
plain URL too. A tampered or missing signature is 403, an expired one 410,
as nginx answers in the compose stack.
"""

from aiohttp import web

from pixtag import keys
from pixtag.auth.authenticator import AUTH
from pixtag.auth.signing import Verdict
from pixtag.errors import AccessDenied, Gone


async def check(request: web.Request) -> None:
    """Refuse the request unless its signature or its token allows it."""
    query = request.query
    header = request.headers.get("Authorization")
    if "md5" not in query and header is not None:
        await request.app[AUTH].authenticate(request.app[keys.DATABASE], header)
        return
    signer = request.app[keys.MEDIA_SIGNER]
    verdict = signer.verify(request.path, query.get("md5"), query.get("expires"))
    if verdict is Verdict.EXPIRED:
        raise Gone("This media link has expired: ask the API for the file again")
    if verdict is Verdict.INVALID:
        raise AccessDenied("This media URL needs a valid signature (md5 and expires)")
