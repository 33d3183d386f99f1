"""Share links and file drops: capability URLs for one image's file, no API token needed.

A share is ``/s/{token}``; a drop (seed 002's ``PUT /file``) is
``/file/{token}``, a share of one download whose image is deleted once it
has been downloaded. Using one checks, in order: it exists (404), it can
still be used (410: revoked, expired, used up, image deleted), its password
(429 while locked after wrong ones, 401 when missing or wrong; a page that
took the right password hands out a grant instead: a signed URL).

**A download counts only when its bytes are sent.** ``/s/{token}`` itself
counts nothing: a browser gets a page (``pixtag.auth.share_page``), an API
client a redirect to ``/s/{token}/download``, which sends the bytes (200).
The count is taken atomically as the bytes start (so concurrent downloads
never exceed the limit) and given back when they could not all be sent.
HEAD requests, the page, its thumbnail and link previews use nothing up.
"""

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from pixtag import keys
from pixtag.auth import passwords
from pixtag.auth.models import Share, ShareCreate
from pixtag.auth.queries import shares as queries
from pixtag.auth.signing import Verdict
from pixtag.errors import DomainError, Gone, NotFound, TooManyRequests
from pixtag.images import removal
from pixtag.images.delivery import send_file
from pixtag.renditions.context import RENDITIONS
from pixtag.renditions.presets import STRIPPED
from pixtag.storage.keys import EXTENSIONS

log = logging.getLogger(__name__)

SHARE = "share"
DROP = "drop"
# The rendition a share's page shows: small, so a page never gives the file away.
PREVIEW = "thumb"


class SharePasswordNeeded(DomainError):
    """401 for a share link: the password is missing or wrong."""

    status = 401

    def __init__(self, detail: str, *, wrong: bool = False) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'X-Share-Password realm="share"'})
        self.wrong = wrong


class ShareLocked(TooManyRequests):
    """429: too many wrong passwords; ``retry_after`` seconds until the next may be tried."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many wrong passwords for this share link; try again later",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Proof:
    """How a caller answers a share's password: the password, or a grant a page signed."""

    password: str | None = None
    granted: bool = False


def share_model(app: web.Application, row: queries.ShareRow) -> Share:
    url = str(app.router["share_link"].url_for(token=row.token))
    return Share(url=url, **row.__dict__)


async def create(
    app: web.Application, image_id: int, body: ShareCreate, *, kind: str = SHARE
) -> Share:
    """A new share (or drop) of the image's file."""
    password_hash = None
    if body.password is not None:
        password_hash = await passwords.hash_password(body.password)
    async with app[keys.DATABASE].cursor() as cur:
        row = await queries.create(
            cur,
            token=secrets.token_urlsafe(24),
            image_id=image_id,
            password_hash=password_hash,
            expires_in=body.expires_in,
            max_downloads=1 if kind == DROP else body.max_downloads,
            kind=kind,
            strip_metadata=kind != DROP and body.strip_metadata,
        )
    return share_model(app, row)


async def listing(app: web.Application, image_id: int) -> list[Share]:
    async with app[keys.DATABASE].cursor() as cur:
        rows = await queries.listing(cur, image_id)
    return [share_model(app, row) for row in rows]


async def revoke(app: web.Application, token: str) -> None:
    async with app[keys.DATABASE].cursor() as cur:
        await queries.revoke(cur, token)


async def find(app: web.Application, token: str, kind: str = SHARE) -> queries.Link:
    """The link, if it can still be used (404, 410 otherwise); no password checked."""
    async with app[keys.DATABASE].cursor() as cur:
        link = await queries.link(cur, token, kind=kind, preview=PREVIEW)
    if link is None:
        raise NotFound("No such share link" if kind == SHARE else "No such file")
    if link.gone:
        raise Gone(
            "This share link has expired, been used up or revoked, or its image is gone"
            if kind == SHARE
            else "This file has been downloaded and is gone"
        )
    return link


async def check(app: web.Application, token: str, proof: Proof, kind: str = SHARE) -> queries.Link:
    """The link, if ``proof`` opens it now: 404, 410, 401 or 429 otherwise. Counts nothing."""
    link = await find(app, token, kind)
    await check_password(app, token, link.password_hash, link.locked_for, proof)
    if link.key is None or link.content_type is None or link.filename is None:
        raise NotFound("The shared image has no file yet")
    return link


async def check_password(
    app: web.Application,
    token: str,
    password_hash: str | None,
    locked_for: int | None,
    proof: Proof,
) -> None:
    """Nothing when the link needs no password or ``proof`` gives it (or a grant); 401 or
    429 otherwise. A wrong password counts towards the link's limit."""
    if password_hash is None or proof.granted:
        return
    if locked_for is None and not proof.password:
        raise SharePasswordNeeded(
            "This share link needs its password (?password= or X-Share-Password)"
        )
    async with app[keys.DATABASE].cursor() as cur:
        # Counted before it is checked: guesses sent at once cannot outrun the limit.
        if locked_for is not None or not await queries.claim_attempt(cur, token):
            raise ShareLocked(max(1, await queries.locked_for(cur, token) or 1))
    if not await passwords.verify_password(proof.password or "", password_hash):
        raise SharePasswordNeeded("Wrong password for this share link", wrong=True)


async def download(
    request: web.Request, token: str, proof: Proof, kind: str = SHARE
) -> web.StreamResponse:
    """Send the file's bytes, counting the download once they start and giving it back if
    they could not all be sent; a drop's image is deleted once it was downloaded."""
    app = request.app
    link = await check(app, token, proof, kind)
    assert link.key is not None
    assert link.content_type is not None
    sent = await as_shared(
        app,
        Sent(link.key, link.content_type, link.filename or "", link.size or 0),
        link.image_id,
        strip=link.strip_metadata,
    )
    response = await counted(request, token, lambda: send(request, sent))
    if kind == DROP and request.method != "HEAD":  # a HEAD counts nothing
        await _remove_drop(app, link.image_id)
    return response


@dataclass(frozen=True)
class Sent:
    """A file as a share sends it."""

    key: str
    content_type: str
    filename: str
    size: int


async def as_shared(app: web.Application, stored: Sent, image_id: int, *, strip: bool) -> Sent:
    """The file a share's download sends: as stored, or (``strip``) the image's copy without
    its metadata, built once as the rendition ``stripped`` (named .png when written anew)."""
    if not strip:
        return stored
    ready = await app[RENDITIONS].ensure(image_id, STRIPPED)
    filename = stored.filename
    if ready.content_type != stored.content_type:  # written anew as PNG
        filename = f"{filename.rsplit('.', 1)[0] or 'image'}.{EXTENSIONS[ready.content_type]}"
    return Sent(ready.key, ready.content_type, filename, ready.size)


async def send(request: web.Request, sent: Sent) -> web.StreamResponse:
    return await send_file(
        request,
        request.app[keys.STORAGE],
        sent.key,
        content_type=sent.content_type,
        filename=sent.filename,
        size=sent.size,
    )


async def counted(
    request: web.Request, token: str, respond: Callable[[], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """``respond()``, counting one download of the share as its bytes start and giving it
    back if they could not all be sent; HEAD counts nothing."""
    if request.method == "HEAD":
        return await respond()
    app = request.app
    async with app[keys.DATABASE].cursor() as cur:
        if not await queries.count_download(cur, token):
            raise Gone("This share link has just been used up, revoked or expired")
    try:
        return await respond()
    except BaseException:
        # Shielded: a cancelled handler (the client left) still gives the count back.
        await asyncio.shield(_give_back(app, token))
        raise


async def _give_back(app: web.Application, token: str) -> None:
    try:
        async with app[keys.DATABASE].cursor() as cur:
            await queries.uncount_download(cur, token)
    except Exception:
        log.warning("could not give back an unfinished download of a share", exc_info=True)


async def _remove_drop(app: web.Application, image_id: int) -> None:
    """A downloaded drop's image goes through the normal delete path; if that fails the
    drop is used up all the same (410), and its image stays, visible in the API."""
    try:
        await removal.delete_image(app[keys.INGEST], image_id, None)
    except Exception:
        log.warning("a downloaded drop's image %d could not be deleted", image_id, exc_info=True)


async def preview(request: web.Request, token: str, proof: Proof) -> web.StreamResponse:
    """The share's thumbnail for its page (counts nothing): 404 until it is ready."""
    link = await check(request.app, token, proof)
    if link.preview_key is None or link.preview_type is None:
        raise NotFound("The shared image has no thumbnail yet")
    return await send_file(
        request,
        request.app[keys.STORAGE],
        link.preview_key,
        content_type=link.preview_type,
        filename=f"preview-{link.filename}",
        size=link.preview_size or 0,
        inline=True,
    )


def grant(app: web.Application, path: str) -> str:
    """``path`` signed for a visitor who gave the right password (PIXTAG_MEDIA_URL_TTL s)."""
    return app[keys.MEDIA_SIGNER].sign(path)


def granted(request: web.Request) -> bool:
    """Whether the request's URL carries a valid grant for its path."""
    query = request.query
    if "md5" not in query:
        return False
    verdict = request.app[keys.MEDIA_SIGNER].verify(
        request.path, query.get("md5"), query.get("expires")
    )
    return verdict is Verdict.VALID
