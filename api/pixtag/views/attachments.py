"""/images/{image_id}/attachment/{filename}: upload an image's file, and find it."""

from urllib.parse import quote

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r201, r302, r400, r404, r413, r415, r507

from pixtag import media, uploads
from pixtag.db.pool import cursor
from pixtag.db.queries import attachments as queries
from pixtag.errors import NotFound, WrongFilename
from pixtag.models import Image, ImageId, Problem
from pixtag.views.base import ProblemView, json_document


class AttachmentView(ProblemView):
    """The file of one image, stored under the image's own filename."""

    async def post(
        self, image_id: ImageId, filename: str, /
    ) -> (
        r200[Image]
        | r201[Image]
        | r400[Problem]
        | r404[Problem]
        | r413[Problem]
        | r415[Problem]
        | r507[Problem]
    ):
        """
        Upload the image's file as multipart field ``image`` (the part's own filename is ignored).

        The file is streamed to disk and replaces the previous one atomically;
        its type comes from its bytes. ``{filename}`` must be the image's filename.

        Tags: attachments
        Status Codes:
            200: The previous file was replaced; the image with its new attachment.
            201: The first file was stored; the image with its attachment.
            400: The body is not multipart/form-data with exactly one field ``image``.
            404: There is no such image, or ``{filename}`` is not its filename.
            413: The file is larger than PIXTAG_MAX_UPLOAD_SIZE.
            415: The file is not an image of an accepted type (SVG is refused).
            507: There is no space left to store the file.
        """
        status, document = await uploads.attach(self.request, image_id, filename)
        headers = {}
        if status == 201:
            headers["Location"] = f"/images/{image_id}/attachment/{quote(filename, safe='')}"
        return json_document(document, status=status, **headers)

    async def get(
        self, image_id: ImageId, filename: str, /
    ) -> r302[None] | r400[Problem] | r404[Problem]:
        """
        Redirect to the stored file under PIXTAG_MEDIA_URL.

        Tags: attachments
        Status Codes:
            302: ``Location`` is the file's URL.
            400: The id is not an integer between 1 and 2^63-1.
            404: No such image, no file stored yet, or ``{filename}`` is not its filename.
        """
        return await self.redirect(image_id, filename)

    # HEAD answers the same redirect, for clients that check before they download.
    head = get

    async def redirect(self, image_id: int, filename: str) -> web.Response:
        async with cursor(self.request.app) as cur:
            current = await queries.image_file(cur, image_id)
        if filename != current.filename:
            raise WrongFilename(image_id, filename, current.filename)
        if current.content_type is None:
            raise NotFound(f"Image <{image_id}> has no file yet")
        location = media.public_url(self.settings.media_url, image_id, filename)
        return web.Response(status=302, headers={"Location": location})
