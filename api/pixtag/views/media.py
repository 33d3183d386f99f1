"""/media/{image_id}/{name}: the stored bytes (local storage), for setups without a proxy.

aiohttp's FileResponse does Range, ETag, If-None-Match and Last-Modified;
this view decides *which* file may be served: only the key a record names,
as a regular file inside the media root (no symlinks, no temporary files),
with the type identified at upload rather than guessed from the name, and
``nosniff`` so that a browser never reads an image as a page. A key's bytes
never change, so it may be cached forever; the image's filename names the
download.
"""

import asyncio

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r206, r302, r304, r400, r404, r416

from pixtag import keys, media
from pixtag.db.pool import cursor
from pixtag.db.queries import attachments as queries
from pixtag.errors import NotFound, RangeNotSatisfiable
from pixtag.models import ImageId, Problem
from pixtag.storage.disposition import content_disposition
from pixtag.storage.local import LocalStorage
from pixtag.views.base import ProblemView

# A file that names itself an HTML page stays inert even if opened directly.
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
IMMUTABLE = "public, max-age=31536000, immutable"


def check_range(request: web.Request, size: int, mtime: float) -> None:
    """Refuse an unsatisfiable Range as problem+json (FileResponse would answer an empty 416)."""
    if_range = request.if_range
    if "Range" not in request.headers or (if_range and mtime > if_range.timestamp()):
        return
    try:
        rng = request.http_range
    except ValueError:
        raise RangeNotSatisfiable(size) from None
    if rng.start is not None and rng.start >= size:
        raise RangeNotSatisfiable(size)


class MediaView(ProblemView):
    """Stored files."""

    async def get(
        self, image_id: ImageId, name: str, /
    ) -> (
        r200[bytes]
        | r206[bytes]
        | r302[None]
        | r304[None]
        | r400[Problem]
        | r404[Problem]
        | r416[Problem]
    ):
        """
        The bytes of a stored file, by its key ``{image_id}/{name}``.

        Cached forever (``Cache-Control: immutable``): a key never changes;
        ``Content-Disposition`` carries the image's filename.

        Tags: attachments
        Status Codes:
            200: The file, with ETag and Last-Modified.
            302: ``{name}`` is the image's filename (a link from before storage keys): its key.
            206: The requested byte range.
            304: Not modified (If-None-Match / If-Modified-Since).
            400: The id is not an integer between 1 and 2^63-1.
            404: No such file.
            416: The range is outside the file.
        """
        return await self.serve(image_id, name)

    async def head(
        self, image_id: ImageId, name: str, /
    ) -> r200[None] | r302[None] | r304[None] | r400[Problem] | r404[Problem]:
        """
        The headers of a stored file.

        Tags: attachments
        Status Codes:
            200: The headers the file would be served with.
            302: ``{name}`` is the image's filename (a link from before storage keys): its key.
            304: Not modified.
            400: The id is not an integer between 1 and 2^63-1.
            404: No such file.
        """
        return await self.serve(image_id, name)

    async def serve(self, image_id: int, name: str) -> web.StreamResponse:
        storage = self.request.app[keys.STORAGE]
        if not isinstance(storage, LocalStorage):
            raise NotFound("Files are served from S3 storage: follow the attachment's redirect")
        async with cursor(self.request.app) as cur:
            current = await queries.image_file(cur, image_id)
        requested = f"{image_id}/{name}"
        if current.key is None or current.content_type is None:
            raise NotFound(f"No file {name!r} is stored for image <{image_id}>")
        if requested != current.key:
            if name == current.filename:
                # A link from before storage keys: the file now lives under its key.
                location = f"{storage.media_url}/{current.key}"
                return web.Response(status=302, headers={"Location": location})
            raise NotFound(f"No file {name!r} is stored for image <{image_id}>")
        path = storage.path(current.key)
        st = await asyncio.to_thread(media.served_file, storage.root, path)
        check_range(self.request, st.st_size, st.st_mtime)
        headers = {
            "Content-Type": current.content_type,
            "Content-Disposition": content_disposition(current.filename),
            **MEDIA_HEADERS,
        }
        if not current.legacy:
            headers["Cache-Control"] = IMMUTABLE
        return web.FileResponse(path, headers=headers)
