"""/processing: process stored images into new ones, follow the tasks, restart failed ones."""

from typing import Annotated, Any, ClassVar

from aiohttp_pydantic.oas.typing import r200, r202, r400, r404, r409, r415
from pydantic import Field

from pixtag.models import BIGINT_MAX, DIGITS, AfterId, ChunkSize, Integer, Limit, Problem
from pixtag.openapi.fragments import QUEUE_BUSY, STREAM_BUSY, json_body
from pixtag.processing import queries, service
from pixtag.processing.models import (
    ProcessingCreate,
    ProcessingListing,
    ProcessingTask,
    TaskIds,
    TaskStatus,
    asked,
)
from pixtag.views.base import ProblemView, json_document, read_json
from pixtag.views.stream import stream_document

# What a client can do next with a task (OpenAPI links).
BY_ID = {"task_id": "$response.body#/id"}
LINKS = {
    "GetTask": {"operationId": "getProcessingTask", "parameters": BY_ID},
    "RestartTask": {"operationId": "restartProcessingTask", "parameters": BY_ID},
}

TaskId = Annotated[int, Field(ge=1, le=BIGINT_MAX, description="The task's id." + DIGITS), Integer]


class ProcessingCollectionView(ProblemView):
    """Processing tasks: new images made from stored ones by background jobs."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "listProcessingTasks",
            "responses": {
                "200": {
                    "content": {
                        "application/json": {"schema": ProcessingListing},
                        "application/x-ndjson": {
                            "schema": {
                                "type": "array",
                                "items": ProcessingTask,
                                "description": "Newline-delimited JSON: one task per line.",
                            },
                        },
                    },
                },
                **QUEUE_BUSY,
                "429": STREAM_BUSY["429"],
            },
        },
        "POST": {
            "operationId": "createProcessingTasks",
            "requestBody": json_body(ProcessingCreate),
            "responses": QUEUE_BUSY,
        },
    }

    async def post(
        self,
    ) -> r202[TaskIds] | r400[Problem] | r404[Problem] | r409[Problem] | r415[Problem]:
        """
        Process images: queue one task per image with the same algorithm and parameters.

        ``params`` depend on ``algorithm``: resize ``{width, height}``;
        thumbnail ``{size}`` or ``{width, height}`` (fits, keeps the aspect
        ratio); flip ``{direction}`` (horizontal or vertical); rotate
        ``{degrees, expand}`` (counter-clockwise); grayscale ``{}``; crop
        ``{left, top, width, height}`` (checked against the image when the task
        runs). A finished task's result is a new image with the source's tags,
        named after it (``photo.resize.jpg``), in the source's format where it
        can be written (else PNG), the EXIF orientation applied and metadata
        left out. Every image must exist and have a file, or nothing is queued.

        Tags: processing
        Status Codes:
            202: The tasks are queued, one per distinct image id, in the order given.
            400: The body is not valid JSON or a field is invalid (the problem names it).
            404: Some images do not exist (``image_ids`` names them all).
            409: Some images have no file yet (``image_ids`` names them all).
            415: The body is not JSON.
        """
        body = await read_json(self.request, ProcessingCreate)
        ids, algorithm, params = asked(body)
        task_ids = await service.create(
            self.db,
            ids,
            algorithm=algorithm,
            params=params,
            max_attempts=self.settings.jobs_max_attempts,
        )
        return json_document(TaskIds(task_ids=task_ids).model_dump_json(), status=202)

    async def get(
        self,
        status: TaskStatus | None = None,
        chunk_size: ChunkSize | None = None,
        after_id: AfterId | None = None,
        limit: Limit | None = None,
    ) -> r200[list[ProcessingTask]] | r400[Problem]:
        """
        Stream the tasks in id order, optionally only those with one status.

        The body has the envelope of GET /images: one array per chunk, then
        ``{"totalTasks": N, "totalChunks": M}``; with ``Accept:
        application/x-ndjson``, one task per line. Walk a large set in pages
        with ``after_id`` (the last id seen) and ``limit``.

        Tags: processing
        Status Codes:
            200: The tasks, streamed in chunks.
            400: A parameter is invalid, unknown or repeated.
        """
        opened = queries.open_tasks(
            self.db,
            status=status,
            after_id=after_id,
            limit=limit,
            chunk_size=chunk_size or self.settings.chunk_size,
        )
        return await stream_document(self.request, opened, totals_name="totalTasks")


class ProcessingTaskView(ProblemView):
    """One processing task."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "getProcessingTask",
            "responses": {"200": {"links": LINKS}, **QUEUE_BUSY},
        },
    }

    async def get(self, task_id: TaskId, /) -> r200[ProcessingTask] | r400[Problem] | r404[Problem]:
        """
        Read one task: its status, last error and, once finished, its result image.

        Tags: processing
        Status Codes:
            200: The task.
            400: The id is not plain decimal digits in range.
            404: There is no task with this id.
        """
        async with self.db.cursor() as cur:
            return json_document(await queries.task_json(cur, task_id))


class ProcessingRestartView(ProblemView):
    """Running a failed task again."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "restartProcessingTask",
            "responses": {"202": {"links": LINKS}, **QUEUE_BUSY},
        },
    }

    async def post(
        self, task_id: TaskId, /
    ) -> r202[ProcessingTask] | r400[Problem] | r404[Problem] | r409[Problem]:
        """
        Queue a task that ended in error again, from its first attempt.

        Tags: processing
        Status Codes:
            202: The task, pending again.
            400: The id is not plain decimal digits in range.
            404: There is no task with this id.
            409: The task is not in error (pending, processing or finished).
        """
        return json_document(await service.restart(self.db, task_id), status=202)
