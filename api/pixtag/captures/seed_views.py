"""Seed 000's spellings of captures: POST /capture, POST /batch/capture, GET /resources.

They answer from the same rows as /captures, in the seed's shapes (a
Resource; 201 for a request), so clients of that system keep working.
"""

from typing import Annotated, Any, ClassVar, Literal

from aiohttp_pydantic.oas.typing import r200, r201, r400, r404, r409, r415
from pydantic import Field

from pixtag import keys
from pixtag.captures import queries, seed_queue, service
from pixtag.captures.models import (
    Resource,
    SeedBatch,
    SeedCapture,
    SeedHandBack,
    SeedQueueAdd,
    SeedQueueEntry,
    SeedQueueStatus,
    SeedStatus,
    SeedStatusChanged,
)
from pixtag.models import Integer, Problem
from pixtag.openapi.fragments import QUEUE_BUSY, json_body
from pixtag.views.base import ProblemView, json_document, read_json

ResourceUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        description="The captured URL, percent-encoded as one path segment ('/' as %2F).",
        examples=["https%3A%2F%2Fexample.com%2Fcat.jpg"],
    ),
]
SeedLimit = Annotated[
    int, Field(ge=1, le=10_000, description="At most this many resources (default 1000)."), Integer
]


async def _resources(view: ProblemView, urls: list[str]) -> list[str]:
    await service.request(
        view.request.app[keys.DATABASE],
        urls,
        tags=[],
        max_attempts=view.request.app[keys.SETTINGS].jobs_max_attempts,
    )
    async with view.request.app[keys.DATABASE].cursor() as cur:
        return [await queries.resource_by_url(cur, url) for url in dict.fromkeys(urls)]


class SeedCaptureView(ProblemView):
    """Seed 000: capture one URL."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "seedCapture",
            "requestBody": json_body(SeedCapture),
            "responses": QUEUE_BUSY,
        },
    }

    async def post(self) -> r201[Resource] | r400[Problem] | r415[Problem]:
        """
        Capture a URL (an alias of POST /captures, answered as the seed did).

        Tags: seed
        Status Codes:
            201: The capture, as a Resource.
            400: The body is not ``{"url": ...}`` with an http(s) URL.
            415: The body is not JSON.
        """
        body = await read_json(self.request, SeedCapture)
        (document,) = await _resources(self, [body.url])
        return json_document(document, status=201)


class SeedBatchView(ProblemView):
    """Seed 000: capture several URLs."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "seedBatchCapture",
            "requestBody": json_body(SeedBatch),
            "responses": QUEUE_BUSY,
        },
    }

    async def post(self) -> r201[list[Resource]] | r400[Problem] | r415[Problem]:
        """
        Capture several URLs (an alias of POST /captures/batch, answered as the seed did).

        Tags: seed
        Status Codes:
            201: One Resource per distinct URL.
            400: The body is not ``{"urls": [...]}`` with http(s) URLs.
            415: The body is not JSON.
        """
        body = await read_json(self.request, SeedBatch)
        documents = await _resources(self, body.urls)
        return json_document("[" + ",".join(documents) + "]", status=201)


class ResourcesView(ProblemView):
    """Seed 000: captures by status."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "seedListResources", "responses": QUEUE_BUSY},
    }

    async def get(
        self, status: Literal["done", "ongoing", "failed"] | None = None, limit: SeedLimit = 1000
    ) -> r200[list[Resource]] | r400[Problem]:
        """
        The captures with a status, as Resources: ``ongoing`` is queued or running,
        ``failed`` includes cancelled.

        Tags: seed
        Status Codes:
            200: The Resources, oldest first.
            400: The status or limit is invalid.
        """
        async with self.db.cursor() as cur:
            return json_document(await queries.resources(cur, status, limit=limit))


class ResourceView(ProblemView):
    """Seed 000: a capture by its URL."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "seedGetResource", "responses": QUEUE_BUSY},
    }

    async def get(self, url: ResourceUrl, /) -> r200[Resource] | r400[Problem] | r404[Problem]:
        """
        The latest capture of a URL (URL-encoded in the path), as a Resource.

        Tags: seed
        Status Codes:
            200: The Resource.
            404: No capture has this URL.
        """
        async with self.db.cursor() as cur:
            return json_document(await queries.resource_by_url(cur, url))


QueueLimit = Annotated[
    int, Field(ge=1, le=10_000, description="At most this many URLs (default 10)."), Integer
]


class SeedQueueView(ProblemView):
    """Seed 001: the URL queue."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write", "PUT": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "seedListQueue", "responses": QUEUE_BUSY},
        "POST": {
            "operationId": "seedQueueUrls",
            "requestBody": json_body(SeedQueueAdd),
            "responses": QUEUE_BUSY,
        },
        "PUT": {
            "operationId": "seedHandBackUrl",
            "requestBody": json_body(SeedHandBack),
            "responses": QUEUE_BUSY,
        },
    }

    async def get(
        self,
        limit: QueueLimit = 10,
        status: list[SeedQueueStatus] = ["READY", "TASKED", "DONE"],  # noqa: B006 - read only
    ) -> r200[list[SeedQueueEntry]] | r400[Problem]:
        """
        The queue's URLs (each URL's latest capture), oldest first, in the statuses asked
        for (``status`` repeated; all three by default): ``READY`` waits while
        the queue is paused, ``TASKED`` is due or running, ``DONE`` is finished (captured,
        failed or cancelled; GET /captures/{id} says which).

        Tags: seed
        Status Codes:
            200: The URLs.
            400: The limit or a status is invalid.
        """
        async with self.db.cursor() as cur:
            entries = await queries.seed_queue(cur, list(dict.fromkeys(status)), limit=limit)
        return json_document("[" + ",".join(entries) + "]")

    async def post(self) -> r200[list[SeedQueueEntry]] | r400[Problem] | r415[Problem]:
        """
        Queue URLs: each URL seen before, whatever its status, is discarded; the new ones
        are queued (captured) and listed.

        Tags: seed
        Status Codes:
            200: The URLs queued now (``[]`` when every one was seen before).
            400: The body is not a list of ``{"url": ...}`` with http(s) URLs.
            415: The body is not JSON.
        """
        body = await read_json(self.request, SeedQueueAdd)
        entries = await seed_queue.add(
            self.db, [item.url for item in body.root], max_attempts=self.settings.jobs_max_attempts
        )
        return json_document("[" + ",".join(entries) + "]")

    async def put(
        self,
    ) -> r200[SeedQueueEntry] | r400[Problem] | r404[Problem] | r409[Problem] | r415[Problem]:
        """
        A worker hands a URL back: ``READY`` runs a finished one again (a waiting one stays
        as it is), ``DONE`` cancels one still waiting.

        Tags: seed
        Status Codes:
            200: The URL's entry now.
            400: The body is not ``{"origin": URL, "status": "READY" | "DONE"}``.
            404: The URL was never queued.
            409: ``DONE`` for a URL being captured right now.
            415: The body is not JSON.
        """
        body = await read_json(self.request, SeedHandBack)
        entry = await seed_queue.hand_back(
            self.db, body.origin, body.status, max_attempts=self.settings.jobs_max_attempts
        )
        return json_document(entry)


class SeedStatusView(ProblemView):
    """Seed 001: whether the queue runs."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "seedQueueStatus", "responses": QUEUE_BUSY},
        "POST": {
            "operationId": "seedSwitchQueue",
            "requestBody": json_body(SeedStatus),
            "responses": QUEUE_BUSY,
        },
    }

    async def get(self) -> r200[SeedStatus] | r400[Problem]:
        """
        Whether the queue runs (the captures' switch, as PUT /captures/switch sets it).

        Tags: seed
        Status Codes:
            200: ``{"enabled": ...}``.
            400: The query has a parameter (none is taken).
        """
        state = SeedStatus(enabled=await seed_queue.enabled(self.db))
        return json_document(state.model_dump_json())

    async def post(self) -> r200[SeedStatusChanged] | r400[Problem] | r415[Problem]:
        """
        Pause (``false``) or run (``true``) the queue; enabling dispatches every URL that
        waited (``dispatched`` counts them).

        Tags: seed
        Status Codes:
            200: The queue's state now.
            400: The body is not ``{"enabled": true | false}``.
            415: The body is not JSON.
        """
        body = await read_json(self.request, SeedStatus)
        dispatched = await seed_queue.switch(self.db, body.enabled)
        changed = SeedStatusChanged(enabled=body.enabled, dispatched=dispatched)
        return json_document(changed.model_dump_json())
