"""Share links: a capability URL ``/s/{token}`` for one image's file, no API token needed.

Following one checks, in order: it exists (404), it can still be used (410:
revoked, expired, used up, image deleted), its password (429 while locked
after wrong ones, 401 when missing or wrong), then counts the download
atomically and redirects to a signed media URL (a presigned one with S3).
"""

import secrets

from aiohttp import web

from pixtag import keys
from pixtag.auth import passwords
from pixtag.auth.models import Share, ShareCreate
from pixtag.auth.queries import shares as queries
from pixtag.errors import DomainError, Gone, NotFound, TooManyRequests


class SharePasswordNeeded(DomainError):
    """401 for a share link: the password is missing or wrong."""

    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'X-Share-Password realm="share"'})


def share_model(app: web.Application, row: queries.ShareRow) -> Share:
    url = str(app.router["share_link"].url_for(token=row.token))
    return Share(url=url, **row.__dict__)


async def create(app: web.Application, image_id: int, body: ShareCreate) -> Share:
    """A new share of the image's file."""
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
            max_downloads=body.max_downloads,
        )
    return share_model(app, row)


async def listing(app: web.Application, image_id: int) -> list[Share]:
    async with app[keys.DATABASE].cursor() as cur:
        rows = await queries.listing(cur, image_id)
    return [share_model(app, row) for row in rows]


async def revoke(app: web.Application, token: str) -> None:
    async with app[keys.DATABASE].cursor() as cur:
        await queries.revoke(cur, token)


async def follow(app: web.Application, token: str, password: str | None) -> str:
    """Where the link leads now (a signed URL), once its download is counted."""
    async with app[keys.DATABASE].cursor() as cur:
        link = await queries.link(cur, token)
        if link is None:
            raise NotFound("No such share link")
        if link.gone:
            raise Gone("This share link has expired, been used up or revoked, or its image is gone")
        if link.password_hash is not None:
            if link.locked_for is None and not password:
                raise SharePasswordNeeded(
                    "This share link needs its password (?password= or X-Share-Password)"
                )
            # Counted before it is checked: guesses sent at once cannot outrun the limit.
            if link.locked_for is not None or not await queries.claim_attempt(cur, token):
                locked = await queries.link(cur, token)
                raise TooManyRequests(
                    "Too many wrong passwords for this share link; try again later",
                    retry_after=max(1, (locked and locked.locked_for) or 1),
                )
            if not await passwords.verify_password(password or "", link.password_hash):
                raise SharePasswordNeeded("Wrong password for this share link")
        if link.key is None or link.content_type is None or link.filename is None:
            raise NotFound("The shared image has no file yet")
        if not await queries.count_download(cur, token):
            raise Gone("This share link has just been used up, revoked or expired")
    storage = app[keys.STORAGE]
    url = await storage.url(link.key, filename=link.filename, content_type=link.content_type)
    if not storage.urls_expire:
        # Media is served openly here, yet a share hands out a URL that expires.
        url = app[keys.MEDIA_SIGNER].sign(url)
    return url
