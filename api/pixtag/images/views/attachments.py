"""/images/{image_id}/attachment/{filename}: upload an image's file, and find it."""

from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import (
    r200,
    r201,
    r204,
    r302,
    r400,
    r404,
    r410,
    r412,
    r413,
    r415,
    r507,
)

from pixtag import keys
from pixtag.errors import NotFound, WrongFilename
from pixtag.images import media, removal, uploads
from pixtag.images.queries import attachments as queries
from pixtag.images.versions import etag, if_match_versions
from pixtag.images.views.fragments import (
    DUPLICATE_OF,
    FILE_LINKS,
    IF_MATCH,
    IMAGE_PART,
    LOCATION,
    REDIRECT,
    VERSION,
)
from pixtag.models import ImageId, Problem
from pixtag.openapi.fragments import BINARY, BUSY, UNKNOWN_DELETE
from pixtag.similar import service as similar
from pixtag.similar.context import FINGERPRINTER
from pixtag.similar.models import CheckSimilar, UploadedImage
from pixtag.views.base import ProblemView, json_document


class AttachmentView(ProblemView):
    """The file of one image; ``{filename}`` is the image's filename."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write", "DELETE": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "getAttachment",
            "responses": {**REDIRECT, **BUSY},
        },
        "HEAD": {
            "operationId": "headAttachment",
            "responses": {**REDIRECT, **BUSY},
        },
        "POST": {
            "operationId": "uploadAttachment",
            # The view streams the file to disk itself, never holding it in memory.
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["image"],
                            "properties": {"image": BINARY},
                            "additionalProperties": False,
                        },
                        "encoding": {"image": IMAGE_PART},
                    },
                },
            },
            "responses": {
                "200": {"headers": DUPLICATE_OF, "links": FILE_LINKS},
                "201": {"headers": {"Location": LOCATION, **DUPLICATE_OF}, "links": FILE_LINKS},
                **BUSY,
            },
        },
        "DELETE": {
            "operationId": "deleteAttachment",
            "parameters": IF_MATCH,
            "responses": {"204": {"headers": VERSION}, **UNKNOWN_DELETE},
        },
    }

    async def post(
        self, image_id: ImageId, filename: str, /, check_similar: CheckSimilar = False
    ) -> (
        r200[UploadedImage]
        | r201[UploadedImage]
        | r400[Problem]
        | r404[Problem]
        | r410[Problem]
        | r413[Problem]
        | r415[Problem]
        | r507[Problem]
    ):
        """
        Upload the image's file as multipart field ``image`` (the part's own filename is ignored).

        The file is streamed to storage under a new key; the record then names
        it in one transaction, and the previous file is removed only after that.
        Its type comes from its bytes. ``{filename}`` must be the image's filename.

        Tags: attachments
        Status Codes:
            200: The previous file was replaced; the image with its new attachment.
            201: The first file was stored; the image with its attachment.
            400: The body is not multipart/form-data with exactly one field ``image``, the id
                is not plain decimal digits, or the query has a parameter (none is taken).
            404: There is no such image, or ``{filename}`` is not its filename.
            410: The image was deleted.
            413: The file is larger than PIXTAG_MAX_UPLOAD_SIZE.
            415: The file is not an image of an accepted type (SVG is refused).
            507: There is no space left to store the file.
        """
        replaced, document = await uploads.attach(self.request, image_id, filename)
        found = await similar.near_duplicates(
            self.db, self.request.app[FINGERPRINTER], image_id, check=check_similar
        )
        body, headers = similar.answer(document, found)
        if replaced:
            return json_document(body, status=200, **headers)
        location = media.attachment_path(image_id, filename)
        return json_document(body, status=201, Location=location, **headers)

    async def get(
        self, image_id: ImageId, filename: str, /
    ) -> r302[None] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        Redirect to the stored file.

        With local storage the file's URL is its key under PIXTAG_MEDIA_URL (it
        never changes, so it may be cached forever); with S3 it is a presigned
        URL valid for PIXTAG_S3_PRESIGN_EXPIRES seconds.

        Tags: attachments
        Status Codes:
            302: ``Location`` is the file's URL.
            400: The id is not plain decimal digits between 1 and 2^63-1, or the query has a
                parameter (none is taken).
            404: No such image, no file stored yet, or ``{filename}`` is not its filename.
            410: The image was deleted.
        """
        return await self.redirect(image_id, filename)

    # HEAD answers the same redirect, for clients that check before they download.
    head = get

    async def delete(
        self, image_id: ImageId, filename: str, /
    ) -> r204[None] | r400[Problem] | r404[Problem] | r410[Problem] | r412[Problem]:
        """
        Delete the image's file; the record stays, its ``attachment`` becomes null.

        The record forgets the file in one transaction and the file is removed
        after the commit. ``ETag`` is the record's new version. ``If-Match``
        as for PATCH /images/{image_id}; ``*`` or none deletes whatever the version.

        Tags: attachments
        Status Codes:
            204: The file was deleted; ``ETag`` is the record's new version.
            400: The id is not plain decimal digits between 1 and 2^63-1, or the query has a
                parameter (none is taken).
            404: No such image, no file stored, or ``{filename}`` is not its filename.
            410: The image was deleted.
            412: If-Match does not name the image's current version.
        """
        version = await removal.delete_file(
            self.request.app[keys.INGEST], image_id, filename, if_match_versions(self.request)
        )
        return web.Response(status=204, headers={"ETag": etag(version)})

    async def redirect(self, image_id: int, filename: str) -> web.Response:
        async with self.db.cursor() as cur:
            current = await queries.image_file(cur, image_id)
        if filename != current.filename:
            raise WrongFilename(image_id, filename, current.filename)
        if current.content_type is None or current.key is None:
            raise NotFound(f"Image <{image_id}> has no file yet")
        storage = self.request.app[keys.STORAGE]
        location = await storage.url(
            current.key, filename=current.filename, content_type=current.content_type
        )
        return web.Response(status=302, headers={"Location": location})
