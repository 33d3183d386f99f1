"""/images/{image_id}: read, edit and delete one image record.

Every answer carries the record's version as its ``ETag`` (``pixtag.images.versions``);
PATCH and DELETE honour ``If-Match`` with it. Edits go through
``pixtag.images.records``, deletes through ``pixtag.images.removal`` (commit, then
remove the file).
"""

from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r204, r400, r404, r409, r410, r412, r415

from pixtag import keys
from pixtag.images import removal
from pixtag.images.queries import edits
from pixtag.images.queries import images as queries
from pixtag.images.records import edit_image
from pixtag.images.versions import etag, if_match_versions
from pixtag.images.views.fragments import IF_MATCH, IMAGE_LINKS, VERSION
from pixtag.models import Image, ImageId, ImagePatch, Problem
from pixtag.openapi.fragments import BUSY, UNKNOWN_DELETE
from pixtag.views.base import ProblemView, json_document, read_json


class ImageView(ProblemView):
    """One image: read, edit, delete. ``ETag`` is the row's version (``"v3"``)."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "PATCH": "write", "DELETE": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "getImage",
            "responses": {"200": {"headers": VERSION}, **BUSY},
        },
        "HEAD": {
            "operationId": "headImage",
            "description": "The status and headers GET /images/{image_id} answers, without the"
            " body.",
            "responses": {"200": {"headers": VERSION}, **BUSY},
        },
        "PATCH": {
            "operationId": "updateImage",
            "parameters": IF_MATCH,
            # The view reads the body itself (read_json: 415 for another type).
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ImagePatch}},
            },
            "responses": {"200": {"headers": VERSION, "links": IMAGE_LINKS}, **BUSY},
        },
        "DELETE": {
            "operationId": "deleteImage",
            "parameters": IF_MATCH,
            "responses": UNKNOWN_DELETE,
        },
    }

    async def get(
        self, image_id: ImageId, /
    ) -> r200[Image] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        Read one image with its tags and attachment.

        ``ETag`` is the record's version: every change of the record (an edit,
        an upload, a deleted file) gives it a new one. Send it back in
        ``If-Match`` to change the image only if nobody else did meanwhile.

        Tags: images
        Status Codes:
            200: The image; ``ETag`` is its version.
            400: The id is not plain decimal digits between 1 and 2^63-1, or the query has a
                parameter (none is taken).
            404: There is no image with this id.
            410: The image was deleted.
        """
        async with self.db.cursor() as cur:
            found = await queries.image_json(
                cur, image_id, media_url=self.request.app[keys.STORAGE].media_url
            )
        return json_document(found.document, ETag=etag(found.version))

    head = get

    async def patch(
        self, image_id: ImageId, /
    ) -> (
        r200[Image]
        | r400[Problem]
        | r404[Problem]
        | r409[Problem]
        | r410[Problem]
        | r412[Problem]
        | r415[Problem]
    ):
        """
        Rename the image and change its tags: JSON with any of ``filename``, ``tags``,
        ``tags_add``, ``tags_remove``.

        ``tags`` replaces every tag; ``tags_add`` appends tags it does not have
        yet and ``tags_remove`` then removes its own (``tags`` goes alone). Tags
        are normalised as on create. Renaming never moves the stored file: its
        URL stays, and the attachment path takes the new filename from then on.

        With ``If-Match`` (the ETag of a read), the change is made only if the
        image is still at that version, else 412 and nothing changes;
        ``If-Match: *`` or no If-Match changes the image whatever its version.

        Tags: images
        Status Codes:
            200: The image as changed; ``ETag`` is its new version.
            400: The body is not valid JSON, is empty, has an unknown or null field, gives
                ``tags`` with ``tags_add`` or ``tags_remove``, a field is invalid, the image
                would have more than 100 tags, or the query has a parameter (none is taken).
            404: There is no image with this id.
            409: The image's file is stored in the layout from before storage keys, which
                names it by its filename: it cannot be renamed before `pixtag storage migrate`.
            410: The image was deleted.
            412: If-Match does not name the image's current version.
            415: The body is not JSON.
        """
        patch = await read_json(self.request, ImagePatch)
        edit = edits.Edit(
            filename=patch.filename,
            description=patch.description,
            tags=patch.tags,
            add=patch.tags_add or [],
            remove=patch.tags_remove or [],
            taken=patch.taken(),
        )
        edited = await edit_image(
            self.db,
            image_id,
            edit,
            if_match_versions(self.request),
            media_url=self.request.app[keys.STORAGE].media_url,
        )
        return json_document(edited.document, ETag=etag(edited.version))

    async def delete(
        self, image_id: ImageId, /
    ) -> r204[None] | r400[Problem] | r404[Problem] | r410[Problem] | r412[Problem]:
        """
        Delete the image and its file.

        The record goes in one transaction, which leaves a tombstone: from then
        on every URL of this id (the image, its attachment, its media path)
        answers 410. The stored file is removed after the commit. ``If-Match``
        as for PATCH; ``*`` or none deletes whatever the version.

        Tags: images
        Status Codes:
            204: The image and its file were deleted.
            400: The id is not plain decimal digits between 1 and 2^63-1, or the query has a
                parameter (none is taken).
            404: There is no image with this id.
            410: The image was already deleted.
            412: If-Match does not name the image's current version.
        """
        await removal.delete_image(
            self.request.app[keys.INGEST], image_id, if_match_versions(self.request)
        )
        return web.Response(status=204)
