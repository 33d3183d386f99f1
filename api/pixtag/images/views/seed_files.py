"""Seed 003's file server: /api/file-server/ (with or without the slash) on pixtag's images.

The seed's fields (``pixtag.images.queries.seed_files``), its form for a new
file, a download answered with the bytes, and PATCH of name and comment
(If-Match as on /images/{id}; ``ETag`` is the image's version). pixtag
stores images only: another file is refused with 415.
"""

from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r201, r400, r404, r410, r412, r413, r415, r507

from pixtag import keys
from pixtag.images import seed_files as service
from pixtag.images.delivery import send_file
from pixtag.images.queries import seed_files as queries
from pixtag.images.versions import etag, if_match_versions
from pixtag.images.views.fragments import IF_MATCH, IMAGE_PART, LOCATION, VERSION
from pixtag.models import ImageId, Problem, SeedFile, SeedFilePatch
from pixtag.openapi.fragments import BINARY, BUSY, STREAM_BUSY, json_body
from pixtag.views.base import ProblemView, json_document, read_json
from pixtag.views.stream import stream_document

FORM = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "name": {
                        "type": "string",
                        "description": "The name without extension (default: the file's own).",
                    },
                    "comment": {"type": "string", "description": "The description."},
                    "file": BINARY,
                },
                "additionalProperties": False,
            },
            "encoding": {"file": IMAGE_PART},
        }
    },
}


class SeedFileCollectionView(ProblemView):
    """Seed 003: the files."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "seedListFiles", "responses": STREAM_BUSY},
        "POST": {
            "operationId": "seedCreateFile",
            "requestBody": FORM,
            "responses": {"201": {"headers": {"Location": LOCATION, **VERSION}}, **BUSY},
        },
    }

    async def get(self) -> r200[list[SeedFile]] | r400[Problem]:
        """
        Every image with a file, newest first, as one JSON array (streamed from the database).

        Tags: seed
        Status Codes:
            200: The files.
            400: The query has a parameter (none is taken).
        """
        return await stream_document(self.request, queries.open_files(self.db), plain=True)

    async def post(
        self,
    ) -> r201[SeedFile] | r400[Problem] | r413[Problem] | r415[Problem] | r507[Problem]:
        """
        Store a file from the seed's form: ``name``, ``comment`` and the file in ``file``.

        The stored filename is ``name`` with the file's extension (without ``name``, the
        file's own filename); ``comment`` is the description.

        Tags: seed
        Status Codes:
            201: The file was stored; ``Location`` names it.
            400: The form is malformed, lacks ``file``, has an unknown or repeated field, or
                ``name`` or ``comment`` is invalid.
            413: The body (or the file) is too large.
            415: The body is not multipart, or the file is not an image: pixtag stores images
                only (JPEG, PNG, GIF, WebP, AVIF, HEIC, HEIF, BMP, TIFF, ICO).
            507: There is no space left to store the file.
        """
        image_id = await service.create(self.request)
        document, version = await service.document(self.request, image_id)
        return json_document(
            document,
            status=201,
            Location=f"/api/file-server/{image_id}",
            ETag=etag(version),
        )


class SeedFileView(ProblemView):
    """Seed 003: one file."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "PATCH": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "seedGetFile", "responses": {"200": {"headers": VERSION}, **BUSY}},
        "HEAD": {
            "operationId": "seedHeadFile",
            "description": "The status and headers GET answers, without the body.",
            "responses": {"200": {"headers": VERSION}, **BUSY},
        },
        "PATCH": {
            "operationId": "seedUpdateFile",
            "parameters": IF_MATCH,
            "requestBody": json_body(SeedFilePatch),
            "responses": {"200": {"headers": VERSION}, **BUSY},
        },
    }

    async def get(
        self, image_id: ImageId, /
    ) -> r200[SeedFile] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        One file (an image with a file) in the seed's fields.

        Tags: seed
        Status Codes:
            200: The file; ``ETag`` is the image's version.
            400: The id is not plain decimal digits in range.
            404: There is no image with this id, or it has no file.
            410: The image was deleted.
        """
        document, version = await service.document(self.request, image_id)
        return json_document(document, ETag=etag(version))

    head = get

    async def patch(
        self, image_id: ImageId, /
    ) -> (
        r200[SeedFile]
        | r400[Problem]
        | r404[Problem]
        | r410[Problem]
        | r412[Problem]
        | r415[Problem]
    ):
        """
        Change a file's name (its extension stays) and comment.

        Tags: seed
        Status Codes:
            200: The file as changed; ``ETag`` is its new version.
            400: The body is not valid JSON, is empty, has an unknown or null field, or the
                name or comment is invalid.
            404: There is no image with this id, or it has no file.
            410: The image was deleted.
            412: If-Match does not name the image's current version.
            415: The body is not JSON.
        """
        patch = await read_json(self.request, SeedFilePatch)
        await service.document(self.request, image_id)  # 404 for an image with no file
        await service.edit(
            self.request,
            image_id,
            name=patch.name,
            comment=patch.comment,
            versions=if_match_versions(self.request),
        )
        document, version = await service.document(self.request, image_id)
        return json_document(document, ETag=etag(version))


class SeedFileDownloadView(ProblemView):
    """Seed 003: a file's bytes."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "seedDownloadFile",
            "responses": {
                "200": {
                    "description": "The file's bytes, as an attachment named by its filename.",
                    "content": {"image/*": {"schema": BINARY}},
                },
                **BUSY,
            },
        },
        "HEAD": {
            "operationId": "seedHeadDownloadFile",
            "description": "The status and headers GET answers, without the body.",
            "responses": BUSY,
        },
    }

    async def get(
        self, image_id: ImageId, /
    ) -> r200[None] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        The file's bytes (200, its recorded type, ``Content-Disposition: attachment``).

        Tags: seed
        Status Codes:
            200: The bytes.
            400: The id is not plain decimal digits in range.
            404: There is no image with this id, or it has no file.
            410: The image was deleted.
        """
        async with self.db.cursor() as cur:
            stored = await queries.stored_file(cur, image_id)
        return await send_file(
            self.request,
            self.request.app[keys.STORAGE],
            stored.key,
            content_type=stored.content_type,
            filename=stored.filename,
            size=stored.size,
        )

    head = get


async def seed_files_slash(request: web.Request) -> web.StreamResponse:
    """``/api/file-server/``, the seed's own spelling: the collection's view answers it."""
    response: web.StreamResponse = await SeedFileCollectionView(request)
    return response
