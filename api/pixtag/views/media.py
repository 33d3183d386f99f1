"""/media/{image_id}/{filename}: the stored bytes, for setups without a proxy in front.

aiohttp's FileResponse does Range, ETag, If-None-Match and Last-Modified;
this view decides *which* file may be served: only the file a record names,
as a regular file inside the media root (no symlinks, no temporary files),
with the type identified at upload rather than guessed from the name, and
``nosniff`` so that a browser never reads an image as a page.
"""

import asyncio

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r206, r304, r400, r404, r416

from pixtag import media, storage
from pixtag.db.pool import cursor
from pixtag.db.queries import attachments as queries
from pixtag.errors import BadRequest, NotFound, RangeNotSatisfiable
from pixtag.models import ImageId, Problem
from pixtag.views.base import ProblemView

# A file that names itself an HTML page stays inert even if opened directly.
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


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
        self, image_id: ImageId, filename: str, /
    ) -> r200[bytes] | r206[bytes] | r304[None] | r400[Problem] | r404[Problem] | r416[Problem]:
        """
        The bytes of a stored file.

        Tags: attachments
        Status Codes:
            200: The file, with ETag and Last-Modified.
            206: The requested byte range.
            304: Not modified (If-None-Match / If-Modified-Since).
            400: The id is not an integer between 1 and 2^63-1.
            404: No such file.
            416: The range is outside the file.
        """
        return await self.serve(image_id, filename)

    async def head(
        self, image_id: ImageId, filename: str, /
    ) -> r200[None] | r304[None] | r400[Problem] | r404[Problem]:
        """
        The headers of a stored file.

        Tags: attachments
        Status Codes:
            200: The headers the file would be served with.
            304: Not modified.
            400: The id is not an integer between 1 and 2^63-1.
            404: No such file.
        """
        return await self.serve(image_id, filename)

    async def serve(self, image_id: int, filename: str) -> web.StreamResponse:
        async with cursor(self.request.app) as cur:
            current = await queries.image_file(cur, image_id)
        if filename != current.filename or current.content_type is None:
            raise NotFound(f"No file {filename!r} is stored for image <{image_id}>")
        media_dir = self.settings.media_dir
        try:
            path = storage.target_path(media_dir, image_id, filename)
        except BadRequest:
            raise NotFound(f"No file {filename!r} is stored for image <{image_id}>") from None
        st = await asyncio.to_thread(media.served_file, media_dir, path)
        check_range(self.request, st.st_size, st.st_mtime)
        headers = {"Content-Type": current.content_type, **MEDIA_HEADERS}
        return web.FileResponse(path, headers=headers)
