"""/images/{id}/similar and /similar/index: the duplicate ladder of one image, the backfill."""

from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r202, r204, r400, r404, r410, r415

from pixtag import keys
from pixtag.images.versions import etag
from pixtag.images.views.fragments import VERSION
from pixtag.models import Image, ImageId, Problem
from pixtag.openapi.fragments import BUSY, UNKNOWN_DELETE, json_body
from pixtag.similar import queries, service
from pixtag.similar.models import (
    DEFAULT_DISTANCE,
    DismissRequest,
    DuplicateGroups,
    GroupCursor,
    GroupLimit,
    IndexProgress,
    MaxDistance,
    ResolveRequest,
    Similar,
    SimilarLimit,
)
from pixtag.views.base import ProblemView, json_document, read_json


class SimilarView(ProblemView):
    """The images similar to one."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getSimilarImages", "responses": BUSY},
    }

    async def get(
        self,
        image_id: ImageId,
        /,
        max_distance: MaxDistance = DEFAULT_DISTANCE,
        limit: SimilarLimit = 100,
    ) -> r200[Similar] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        The images on each rung of this image's duplicate ladder, nearest first: the same
        bytes, the same decoded pixels, then the same picture by a 64-bit perceptual hash
        within ``max_distance`` bits.

        An image without a file has none; one whose file is not fingerprinted yet
        (``indexed: false``) finds only the same bytes.

        Tags: similar
        Status Codes:
            200: The similar images, nearest first.
            400: The id, ``max_distance`` (0 to 15) or ``limit`` (1 to 1000) is invalid, or
                the query has another parameter.
            404: No such image.
            410: The image was deleted.
        """
        found = await service.similar(self.db, image_id, max_distance, limit)
        return json_document(found.model_dump_json())


class SimilarIndexView(ProblemView):
    """Fingerprinting the files stored before: progress, and the backfill."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getSimilarIndex", "responses": BUSY},
        "POST": {"operationId": "indexSimilar", "responses": BUSY},
    }

    async def get(self) -> r200[IndexProgress] | r400[Problem]:
        """
        How many stored files are fingerprinted, and how many fingerprint jobs wait.

        Tags: similar
        Status Codes:
            200: The progress.
            400: The query has a parameter (none is taken).
        """
        async with self.db.cursor() as cur:
            progress = await queries.progress(cur)
        return json_document(IndexProgress(**vars(progress)).model_dump_json())

    async def post(self) -> r202[IndexProgress] | r400[Problem]:
        """
        Queue a fingerprint job for every image whose file is not fingerprinted and has no
        job queued: run again, it resumes. The jobs run in the background, paced like
        renditions; ``GET /similar/index`` says how far they got.

        Tags: similar
        Status Codes:
            202: The jobs are queued (``queued``: how many).
            400: The query has a parameter (none is taken).
        """
        async with self.db.transaction() as cur:
            queued = await queries.queue_missing(cur)
            progress = await queries.progress(cur)
        document = IndexProgress(**vars(progress), queued=queued)
        return json_document(document.model_dump_json(), status=202)


class DuplicatesView(ProblemView):
    """The review queue of duplicates."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listDuplicates", "responses": BUSY},
    }

    async def get(
        self, after: GroupCursor | None = None, limit: GroupLimit = 50
    ) -> r200[DuplicateGroups] | r400[Problem]:
        """
        The duplicates found and not dismissed, as groups: each image with the images found
        after it (higher ids) on a rung of its ladder within the default distance, largest
        groups first, then by id. ``next`` is the cursor of the following page
        (``?after=``), ``null`` on the last one.

        Resolving a group (``POST /duplicates/resolve``) or dismissing it
        (``POST /duplicates/dismiss``) takes it out of the queue.

        Tags: similar
        Status Codes:
            200: A page of groups.
            400: ``after`` is not a cursor this listing gave, ``limit`` is not 1 to 500,
                or the query has another parameter.
        """
        cursor = None
        if after is not None:
            size, image_id = after.split(".")
            cursor = (int(size), int(image_id))
        page = await service.duplicate_groups(self.db, cursor, limit)
        return json_document(page.model_dump_json())


class ResolveView(ProblemView):
    """Resolving a group of duplicates: one kept, the others merged onto it and deleted."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "resolveDuplicates",
            "requestBody": json_body(ResolveRequest),
            "responses": {"200": {"headers": VERSION}, **UNKNOWN_DELETE},
        },
    }

    async def post(
        self,
    ) -> r200[Image] | r400[Problem] | r404[Problem] | r410[Problem] | r415[Problem]:
        """
        Keep ``keep``; add the tags of the images in ``remove`` to it, and append their
        descriptions it lacks (``merge`` turns either off); delete them. One transaction:
        all of it happens, or none (their files are removed after the commit, as a delete
        does). The deleted ids answer 410 from then on.

        Tags: similar
        Status Codes:
            200: The kept image, as it is now.
            400: The body is invalid (``keep`` among ``remove``, a repeated id, 1 to 99 ids
                to remove), or the merged tags or description would be too many or too long.
            404: One of the images does not exist.
            410: One of the images was deleted.
            415: The body is not JSON.
        """
        body = await read_json(self.request, ResolveRequest)
        ingest = self.request.app[keys.INGEST]
        document, version = await service.resolve(ingest, body.keep, body.remove, body.merge)
        return json_document(document, ETag=etag(version))


class DismissView(ProblemView):
    """Images that are not duplicates of each other."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "dismissDuplicates",
            "requestBody": json_body(DismissRequest),
            "responses": BUSY,
        },
    }

    async def post(
        self,
    ) -> r204[None] | r400[Problem] | r404[Problem] | r410[Problem] | r415[Problem]:
        """
        Record that the images in ``ids`` are not duplicates of each other: every pair among
        them leaves the review queue and is never queued again.

        Tags: similar
        Status Codes:
            204: Remembered.
            400: The body is invalid (2 to 100 ids).
            404: One of the images does not exist.
            410: One of the images was deleted.
            415: The body is not JSON.
        """
        body = await read_json(self.request, DismissRequest)
        await service.dismiss(self.db, body.ids)
        return web.Response(status=204)
