"""/metadata: reading the files stored before (``pixtag metadata rebuild``), and the camera and
lens names the search terms match, for autocomplete."""

from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r202, r400

from pixtag.metadata import queries
from pixtag.metadata.models import NameLimit, NamePrefix, Names, ReadAll, RebuildProgress
from pixtag.metadata.reading import READER_VERSION
from pixtag.models import Problem
from pixtag.openapi.fragments import BUSY
from pixtag.search.queries import like_pattern
from pixtag.views.base import ProblemView, json_document


class MetadataRebuildView(ProblemView):
    """The metadata backfill: progress, and queueing it."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getMetadataRebuild", "responses": BUSY},
        "POST": {"operationId": "rebuildMetadata", "responses": BUSY},
    }

    async def get(self) -> r200[RebuildProgress] | r400[Problem]:
        """
        How many stored files' metadata is read, and how many read jobs wait.

        Tags: metadata
        Status Codes:
            200: The progress.
            400: The query has a parameter (none is taken).
        """
        async with self.db.cursor() as cur:
            progress = await queries.progress(cur, READER_VERSION)
        return json_document(RebuildProgress(**vars(progress)).model_dump_json())

    async def post(self, all: ReadAll = False) -> r202[RebuildProgress] | r400[Problem]:
        """
        Queue a job to read the metadata of every stored file not read yet (stored before
        pixtag read metadata, or by an older reader; ``all``: every file) that has no job
        queued: run again, it resumes. The jobs run in the background, paced like
        renditions; each records what the file says as an upload would (date taken,
        camera, location, keywords as tags, pixels as displayed), keeping a date set with
        PATCH. ``GET /metadata/rebuild`` says how far they got.

        Tags: metadata
        Status Codes:
            202: The jobs are queued (``queued``: how many).
            400: ``all`` is not a boolean, or the query has another parameter.
        """
        async with self.db.transaction() as cur:
            queued = await queries.queue_unread(cur, READER_VERSION, every=all)
            progress = await queries.progress(cur, READER_VERSION)
        document = RebuildProgress(**vars(progress), queued=queued)
        return json_document(document.model_dump_json(), status=202)


class _NamesView(ProblemView):
    fact: ClassVar[str]

    async def names(self, prefix: str, limit: int) -> web.Response:
        pattern = like_pattern(" ".join(prefix.split()).lower())
        async with self.db.cursor() as cur:
            found = await queries.names(cur, self.fact, pattern, limit)
        return json_document(Names(names=found).model_dump_json())


class CameraNamesView(_NamesView):
    """The cameras the stored photos were taken with, for autocomplete."""

    fact = "camera"
    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listCameras", "responses": BUSY},
    }

    async def get(
        self, prefix: NamePrefix = "", limit: NameLimit = 10
    ) -> r200[Names] | r400[Problem]:
        """
        The camera names starting with ``prefix``, in order, as ``camera:`` matches them
        (the maker and model as people say them: ``canon eos r5``, ``fujifilm x-t4``).

        Tags: metadata
        Status Codes:
            200: The names.
            400: The prefix or limit is invalid, or a parameter is unknown.
        """
        return await self.names(prefix, limit)


class LensNamesView(_NamesView):
    """The lenses the stored photos were taken with, for autocomplete."""

    fact = "lens"
    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listLenses", "responses": BUSY},
    }

    async def get(
        self, prefix: NamePrefix = "", limit: NameLimit = 10
    ) -> r200[Names] | r400[Problem]:
        """
        The lens names starting with ``prefix``, in order, as ``lens:`` matches them.

        Tags: metadata
        Status Codes:
            200: The names.
            400: The prefix or limit is invalid, or a parameter is unknown.
        """
        return await self.names(prefix, limit)
