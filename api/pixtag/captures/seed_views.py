"""Seed 000's spellings of captures: POST /capture, POST /batch/capture, GET /resources.

They answer from the same rows as /captures, in the seed's shapes (a
Resource; 201 for a request), so clients of that system keep working.
"""

from typing import Annotated, Any, ClassVar, Literal

from aiohttp_pydantic.oas.typing import r200, r201, r400, r404, r415
from pydantic import Field

from pixtag import keys
from pixtag.captures import queries, service
from pixtag.captures.models import Resource, SeedBatch, SeedCapture
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
