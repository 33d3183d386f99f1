"""/images and /images/{image_id}: create, list and read image records."""

from aiohttp_pydantic.oas.typing import r200, r201, r400, r404, r413, r415

from pixtag import uploads
from pixtag.db.pool import cursor
from pixtag.db.queries import images as queries
from pixtag.models import Image, ImageCreate, ImageId, Problem
from pixtag.views.base import ProblemView, json_document, read_json


class ImageCollectionView(ProblemView):
    """The collection of images."""

    async def post(self) -> r201[Image] | r400[Problem] | r413[Problem] | r415[Problem]:
        """
        Create an image record from JSON ``{"filename", "tags"}``, or a record and its file.

        Tags are trimmed, NFC-normalised and lower-cased; repeats are dropped.
        As ``multipart/form-data``, a ``meta`` part (that JSON) then an ``image``
        part create the record and store its file in one request, all or nothing.

        Tags: images
        Status Codes:
            201: The image was created; ``Location`` names it.
            400: The body is not valid JSON, a field is invalid, or a part is missing.
            413: The body (or the file) is too large.
            415: The body is neither JSON nor multipart, or the file is not an accepted image.
        """
        if uploads.is_multipart(self.request):
            image_id, document = await uploads.create(self.request)
            return json_document(document, status=201, Location=f"/images/{image_id}")
        meta = await read_json(self.request, ImageCreate)
        async with cursor(self.request.app) as cur:
            image_id, document = await queries.insert_image(
                cur, filename=meta.filename, tags=meta.tags, media_url=self.settings.media_url
            )
        return json_document(document, status=201, Location=f"/images/{image_id}")


class ImageView(ProblemView):
    """One image."""

    async def get(self, image_id: ImageId, /) -> r200[Image] | r400[Problem] | r404[Problem]:
        """
        Read one image with its tags and attachment.

        Tags: images
        Status Codes:
            200: The image.
            400: The id is not an integer between 1 and 2^63-1.
            404: There is no image with this id.
        """
        async with cursor(self.request.app) as cur:
            document = await queries.image_json(cur, image_id, media_url=self.settings.media_url)
        return json_document(document)
