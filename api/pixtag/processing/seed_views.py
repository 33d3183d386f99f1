"""Seed 003's spellings of processing: /api/image-processing/ (with or without the slash).

They answer from the same rows as /processing, in the seed's shapes: ids in
``file_ids``, the list as one plain array, a restart answered 200.
"""

from typing import Annotated, Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r202, r400, r404, r409, r415
from pydantic import Field

from pixtag.models import Integer, Problem
from pixtag.openapi.fragments import QUEUE_BUSY, json_body
from pixtag.processing import queries, service
from pixtag.processing.models import ProcessingTask, SeedProcessingCreate, TaskIds, asked
from pixtag.processing.views import TaskId
from pixtag.views.base import ProblemView, json_document, read_json

SeedLimit = Annotated[
    int, Field(ge=1, le=10_000, description="At most this many tasks (default 1000)."), Integer
]


class SeedProcessingCollectionView(ProblemView):
    """Seed 003: the tasks."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "seedListProcessingTasks", "responses": QUEUE_BUSY},
        "POST": {
            "operationId": "seedCreateProcessingTasks",
            "requestBody": json_body(SeedProcessingCreate),
            "responses": QUEUE_BUSY,
        },
    }

    async def get(self, limit: SeedLimit = 1000) -> r200[list[ProcessingTask]] | r400[Problem]:
        """
        The tasks, oldest first, as one JSON array (an alias of GET /processing).

        Tags: seed
        Status Codes:
            200: The tasks.
            400: The limit is invalid.
        """
        async with self.db.cursor() as cur:
            return json_document(await queries.seed_list(cur, limit=limit))

    async def post(
        self,
    ) -> r202[TaskIds] | r400[Problem] | r404[Problem] | r409[Problem] | r415[Problem]:
        """
        Create tasks (an alias of POST /processing, with the ids in ``file_ids``).

        Tags: seed
        Status Codes:
            202: The tasks are queued.
            400: The body is not valid JSON or a field is invalid.
            404: Some images do not exist.
            409: Some images have no file yet.
            415: The body is not JSON.
        """
        body = await read_json(self.request, SeedProcessingCreate)
        ids, algorithm, params = asked(body)
        task_ids = await service.create(
            self.db,
            ids,
            algorithm=algorithm,
            params=params,
            max_attempts=self.settings.jobs_max_attempts,
        )
        return json_document(TaskIds(task_ids=task_ids).model_dump_json(), status=202)


class SeedProcessingTaskView(ProblemView):
    """Seed 003: one task."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "seedGetProcessingTask", "responses": QUEUE_BUSY},
    }

    async def get(self, task_id: TaskId, /) -> r200[ProcessingTask] | r400[Problem] | r404[Problem]:
        """
        One task (an alias of GET /processing/{task_id}).

        Tags: seed
        Status Codes:
            200: The task.
            400: The id is not plain decimal digits in range.
            404: There is no task with this id.
        """
        async with self.db.cursor() as cur:
            return json_document(await queries.task_json(cur, task_id))


class SeedProcessingRestartView(ProblemView):
    """Seed 003: restart a failed task."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "seedRestartProcessingTask",
            "responses": QUEUE_BUSY,
        },
    }

    async def post(
        self, task_id: TaskId, /
    ) -> r200[ProcessingTask] | r400[Problem] | r404[Problem] | r409[Problem]:
        """
        Restart a task in error (an alias of POST /processing/{task_id}/restart, answered 200
        as the seed did).

        Tags: seed
        Status Codes:
            200: The task, pending again.
            400: The id is not plain decimal digits in range.
            404: There is no task with this id.
            409: The task is not in error.
        """
        return json_document(await service.restart(self.db, task_id))


async def seed_processing_slash(request: web.Request) -> web.StreamResponse:
    """``/api/image-processing/``, the seed's own spelling: the collection's view answers it
    (access: GET read, POST write, as the view declares)."""
    response: web.StreamResponse = await SeedProcessingCollectionView(request)
    return response
