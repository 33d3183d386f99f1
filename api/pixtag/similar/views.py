"""/images/{id}/similar and /similar/index: the duplicate ladder of one image, the backfill."""

from typing import Any, ClassVar

from aiohttp_pydantic.oas.typing import r200, r202, r400, r404, r410

from pixtag.models import ImageId, Problem
from pixtag.openapi.fragments import BUSY
from pixtag.similar import queries, service
from pixtag.similar.models import (
    DEFAULT_DISTANCE,
    IndexProgress,
    MaxDistance,
    Similar,
    SimilarLimit,
)
from pixtag.views.base import ProblemView, json_document


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
