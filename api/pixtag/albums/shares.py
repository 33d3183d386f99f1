"""Album share links: ``/s/{token}`` leads to one album, nothing else.

A browser gets a page of the album's images (each previewed, viewable, and
downloadable) with a Download all button; an API client the same as JSON.
Every URL the link hands out is under ``/s/{token}/`` and names an image
that is checked to be in the album (a manual album's images, or what a
smart album's search finds now) and to have a file: guessing ids reaches
nothing else. Passwords, the rate limit, expiry, revocation and 410 are
those of image shares (``pixtag.auth.shares``); a page opened with the
password signs its URLs (a grant) so the password is sent once.

**Downloads count as for image shares**: one image's file, or all of them
as one zip, counts one download when its bytes start, given back when they
could not all be sent; pages, previews and views count nothing. The zip is
written as it is sent (``zipfile`` on a non-seekable stream: each entry's
sizes and CRC follow its data), one file at a time from storage, so memory
stays flat whatever the album's size; entries are stored (photos are
compressed already) and named by their filenames, made unique.
"""

import io
import secrets
import zipfile
from datetime import UTC, datetime

from aiohttp import web

from pixtag import keys
from pixtag.albums import queries as albums
from pixtag.auth import passwords, share_page
from pixtag.auth import shares as image_shares
from pixtag.auth.models import AlbumShare, ShareCreate
from pixtag.auth.queries import shares as queries
from pixtag.auth.shares import Sent
from pixtag.errors import Gone, NotFound
from pixtag.images.delivery import HEADERS, send_file
from pixtag.renditions.context import RENDITIONS
from pixtag.storage.disposition import content_disposition
from pixtag.storage.keys import EXTENSIONS

# Images the page and the JSON list; the zip holds every one.
PAGE_LIMIT = 1000
# Member files looked up at once while the zip is written.
ZIP_BATCH = 200
VIEWS = ("preview", "view", "download")


def share_model(app: web.Application, row: queries.AlbumShareRow) -> AlbumShare:
    url = str(app.router["share_link"].url_for(token=row.token))
    return AlbumShare(url=url, **row.__dict__)


async def create(app: web.Application, album_id: int, body: ShareCreate) -> AlbumShare:
    password_hash = None
    if body.password is not None:
        password_hash = await passwords.hash_password(body.password)
    async with app[keys.DATABASE].cursor() as cur:
        row = await queries.create_album_share(
            cur,
            token=secrets.token_urlsafe(24),
            album_id=album_id,
            password_hash=password_hash,
            expires_in=body.expires_in,
            max_downloads=body.max_downloads,
            strip_metadata=body.strip_metadata,
        )
        if row is None:
            raise await albums.missing_album(cur, album_id)
    return share_model(app, row)


async def listing(app: web.Application, album_id: int) -> list[AlbumShare]:
    async with app[keys.DATABASE].cursor() as cur:
        await albums.read(cur, album_id)  # 404 or 410 first
        rows = await queries.album_shares(cur, album_id)
    return [share_model(app, row) for row in rows]


async def is_album(app: web.Application, token: str) -> bool:
    async with app[keys.DATABASE].cursor() as cur:
        return await queries.kind(cur, token) == "album"


async def check(app: web.Application, token: str, proof: image_shares.Proof) -> queries.AlbumLink:
    """The album link, if ``proof`` opens it now: 404, 410, 401 or 429 otherwise."""
    async with app[keys.DATABASE].cursor() as cur:
        link = await queries.album_link(cur, token)
    if link is None:
        raise NotFound("No such share link")
    if link.gone:
        raise Gone("This share link has expired, been used up or revoked, or its album is gone")
    await image_shares.check_password(app, token, link.password_hash, link.locked_for, proof)
    return link


async def _member(app: web.Application, link: queries.AlbumLink, image_id: int) -> None:
    async with app[keys.DATABASE].cursor() as cur:
        if not await albums.is_member(cur, link.album_id, link.query, image_id):
            raise NotFound(f"Image <{image_id}> is not in this album")


async def _members(app: web.Application, link: queries.AlbumLink, limit: int | None) -> list[int]:
    async with app[keys.DATABASE].cursor() as cur:
        return await albums.member_ids(cur, link.album_id, link.query, limit)


async def _sent(app: web.Application, link: queries.AlbumLink, member: albums.MemberFile) -> Sent:
    stored = Sent(member.key, member.content_type, member.filename, member.size)
    return await image_shares.as_shared(app, stored, member.image_id, strip=link.strip_metadata)


async def image(
    request: web.Request, token: str, image_id: int, what: str, proof: image_shares.Proof
) -> web.StreamResponse:
    """One image of the album: its thumbnail (``preview``), its large rendition (``view``)
    or its file (``download``, which counts)."""
    app = request.app
    link = await check(app, token, proof)
    await _member(app, link, image_id)
    builder = app[RENDITIONS]
    if what in ("preview", "view"):
        preset = builder.preset("thumb" if what == "preview" else "preview")
        ready = await builder.ensure(image_id, preset)
        return await send_file(
            request,
            app[keys.STORAGE],
            ready.key,
            content_type=ready.content_type,
            filename=f"{what}-{image_id}.{EXTENSIONS[ready.content_type]}",
            size=ready.size,
            inline=True,
        )
    async with app[keys.DATABASE].cursor() as cur:
        (member,) = await albums.member_files(cur, [image_id])
    sent = await _sent(app, link, member)
    return await image_shares.counted(request, token, lambda: image_shares.send(request, sent))


class _Sink(io.RawIOBase):
    """Where the zip writer writes: bytes kept until sent. Not seekable, so each entry's
    sizes and CRC are written after its data."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def seek(self, *args: object) -> int:
        raise OSError("not seekable")

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


async def zip_all(
    request: web.Request, token: str, proof: image_shares.Proof
) -> web.StreamResponse:
    """Every image of the album with a file, as one zip streamed as it is written."""
    app = request.app
    link = await check(app, token, proof)
    ids = await _members(app, link, None)
    if not ids:
        raise NotFound("The album has no image with a file")
    name = f"{(link.name or 'album').replace('/', '_')}.zip"
    resp = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": content_disposition(name, kind="attachment"),
            **HEADERS,
        }
    )
    resp.enable_chunked_encoding()

    async def respond() -> web.StreamResponse:
        await resp.prepare(request)
        if request.method == "HEAD":
            await resp.write_eof()
            return resp
        await _write_zip(app, link, ids, resp)
        await resp.write_eof()
        return resp

    return await image_shares.counted(request, token, respond)


async def _write_zip(
    app: web.Application, link: queries.AlbumLink, ids: list[int], resp: web.StreamResponse
) -> None:
    storage = app[keys.STORAGE]
    sink = _Sink()
    seen: set[str] = set()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for start in range(0, len(ids), ZIP_BATCH):
            async with app[keys.DATABASE].cursor() as cur:
                members = await albums.member_files(cur, ids[start : start + ZIP_BATCH])
            for member in members:
                sent = await _sent(app, link, member)
                info = zipfile.ZipInfo(unique_name(seen, sent.filename), date_time=_now())
                info.compress_type = zipfile.ZIP_STORED
                with zf.open(info, mode="w", force_zip64=sent.size >= 1 << 31) as entry:
                    async for chunk in storage.read(sent.key):
                        entry.write(chunk)
                        await resp.write(sink.drain())
                await resp.write(sink.drain())
    await resp.write(sink.drain())


def unique_name(seen: set[str], name: str) -> str:
    """``name`` made unique among the zip's names so far (``seen``, in any case; updated): a
    repeated ``a.jpg`` becomes ``a (2).jpg``, then ``a (3).jpg``."""
    name = name.replace("/", "_").replace("\\", "_") or "image"
    candidate, n = name, 1
    stem, dot, ext = name.rpartition(".")
    while candidate.lower() in seen:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})"
    seen.add(candidate.lower())
    return candidate


def _now() -> tuple[int, int, int, int, int, int]:
    now = datetime.now(UTC)
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)


async def listing_document(
    request: web.Request, token: str, link: queries.AlbumLink, *, grant: bool
) -> dict[str, object]:
    """The album as the page and the JSON show it: its images' URLs, the first
    ``PAGE_LIMIT``, each signed when the page took the password."""
    app = request.app
    ids = await _members(app, link, PAGE_LIMIT + 1)
    async with app[keys.DATABASE].cursor() as cur:
        files = await albums.member_files(cur, ids[:PAGE_LIMIT])
    base = f"/s/{token}"

    def url(path: str) -> str:
        return image_shares.grant(app, path) if grant else path

    return {
        "name": link.name,
        "description": link.description or "",
        "truncated": len(ids) > PAGE_LIMIT,
        "download_all": url(f"{base}/download"),
        "images": [
            {
                "image_id": f.image_id,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": f.size,
                **{what: url(f"{base}/images/{f.image_id}/{what}") for what in VIEWS},
            }
            for f in files
        ],
    }


async def page(request: web.Request, token: str, password: str | None = None) -> web.Response:
    """The album's page: as opened (``password`` None), or after its form was sent."""
    app = request.app
    try:
        async with app[keys.DATABASE].cursor() as cur:
            link = await queries.album_link(cur, token)
        if link is None:
            raise NotFound("No such share link")
        proof = image_shares.Proof(password=password)
        if link.password_hash is not None and password is None:
            if link.gone:
                raise Gone("gone")
            return share_page.render(
                200, state="password", title="This album needs a password", message=None,
                action=f"/s/{token}",
            )  # fmt: skip
        link = await check(app, token, proof)
        document = await listing_document(
            request, token, link, grant=link.password_hash is not None
        )
        return share_page.render_album(document)
    except NotFound as error:
        return share_page.closed(404, error.detail)
    except Gone:
        return share_page.closed(
            410, "This link has been used up, has expired or was revoked, or its album is gone."
        )
    except image_shares.ShareLocked as locked:
        return share_page.render(
            429, state="locked", title="This album needs a password",
            message=f"Too many wrong passwords. Try again in {locked.retry_after} seconds.",
            action=f"/s/{token}",
        )  # fmt: skip
    except image_shares.SharePasswordNeeded as needed:
        return share_page.render(
            401, state="wrong" if needed.wrong else "password",
            title="This album needs a password",
            message="Wrong password." if needed.wrong else "Enter the password.",
            action=f"/s/{token}",
        )  # fmt: skip
