"""Renditions over HTTP: the redirect to one, and rebuilding them in the background."""

from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r202, r302, r400, r404, r410, r415, r422

from pixtag.errors import NotFound
from pixtag.models import ImageId, Problem
from pixtag.openapi.fragments import QUEUE_BUSY, json_body, location
from pixtag.renditions import queries
from pixtag.renditions.context import RENDITIONS
from pixtag.renditions.models import PresetName, Rebuild, RebuildId, RebuildRequest
from pixtag.views.base import ProblemView, json_document, read_json

REDIRECT = location(
    "The rendition's URL: its immutable key under PIXTAG_MEDIA_URL, or a presigned S3 URL."
)
PROGRESS = location("The rebuild's progress.")


class RenditionView(ProblemView):
    """One rendition of an image's file."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "getRendition",
            "responses": {"302": {"headers": REDIRECT}, **QUEUE_BUSY},
        },
        "HEAD": {
            "operationId": "headRendition",
            "responses": {"302": {"headers": REDIRECT}, **QUEUE_BUSY},
        },
    }

    async def get(
        self, image_id: ImageId, preset: PresetName, /
    ) -> r302[None] | r400[Problem] | r404[Problem] | r410[Problem] | r422[Problem]:
        """
        Redirect to the rendition ``{preset}`` of the image's file, built first if missing.

        The URL is the rendition's immutable key under PIXTAG_MEDIA_URL (cached
        forever), or with S3 a presigned URL. A missing rendition is built on
        this request, once even when many servers are asked at the same time.

        Tags: renditions
        Status Codes:
            302: ``Location`` is the rendition's URL.
            400: The id is not plain decimal digits between 1 and 2^63-1, the preset name is
                not a name, or the query has a parameter (none is taken).
            404: No such image, it has no file, or there is no such preset.
            410: The image was deleted.
            422: The image's file could not be rendered.
        """
        location = await self.request.app[RENDITIONS].url(image_id, preset)
        return web.Response(status=302, headers={"Location": location})

    head = get


class RebuildCollectionView(ProblemView):
    """Rebuilding renditions: one background job per image."""

    access: ClassVar[dict[str, str]] = {"POST": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "rebuildRenditions",
            "requestBody": json_body(RebuildRequest),
            "responses": {
                "202": {
                    "headers": PROGRESS,
                    "links": {
                        "GetRebuild": {
                            "operationId": "getRebuild",
                            "parameters": {"rebuild_id": "$response.body#/rebuild_id"},
                        }
                    },
                },
                **QUEUE_BUSY,
            },
        },
    }

    async def post(self) -> r202[Rebuild] | r400[Problem] | r404[Problem] | r415[Problem]:
        """
        Build the renditions that are missing (or, with ``all``, every one again), of one
        ``preset`` or of every preset, in the background.

        Tags: renditions
        Status Codes:
            202: The rebuild is queued; ``Location`` names its progress.
            400: The body is not valid JSON or a field is invalid.
            404: There is no such preset.
            415: The body is not JSON.
        """
        body = await read_json(self.request, RebuildRequest)
        builder = self.request.app[RENDITIONS]
        rebuild_id, document = await builder.start_rebuild(body.preset, body.all)
        location = self.request.app.router["rendition_rebuild"].url_for(rebuild_id=str(rebuild_id))
        return json_document(document, status=202, Location=str(location))


class RebuildView(ProblemView):
    """One rebuild's progress."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getRebuild", "responses": QUEUE_BUSY},
    }

    async def get(self, rebuild_id: RebuildId, /) -> r200[Rebuild] | r400[Problem] | r404[Problem]:
        """
        How far a rebuild got: its jobs counted by status.

        Tags: renditions
        Status Codes:
            200: The rebuild's progress.
            400: The id is not plain decimal digits between 1 and 2^63-1, or the query has a
                parameter (none is taken).
            404: There is no such rebuild.
        """
        async with self.db.cursor() as cur:
            document = await queries.rebuild_json(cur, rebuild_id)
        if document is None:
            raise NotFound(f"Rebuild <{rebuild_id}> is not found")
        return json_document(document)
