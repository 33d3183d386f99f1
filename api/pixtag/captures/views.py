"""/captures: capture images by URL, follow the captures, retry, cancel, pause the queue."""

import json
from typing import Annotated, Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r202, r400, r404, r409, r410, r415
from pydantic import Field

from pixtag.captures import queries, service
from pixtag.captures.models import (
    Capture,
    CaptureBatch,
    CaptureCreate,
    CaptureListing,
    CaptureStatus,
    Switch,
    SwitchState,
)
from pixtag.models import BIGINT_MAX, DIGITS, AfterId, ChunkSize, Integer, Limit, Problem
from pixtag.openapi.fragments import QUEUE_BUSY, STREAM_BUSY, json_body, location
from pixtag.views.base import ProblemView, json_document, read_json
from pixtag.views.stream import stream_document

# What the captures operations say in the OpenAPI document beyond their annotations.
LOCATION = location("The capture's URL.")
BY_ID = {"capture_id": "$response.body#/capture_id"}
LINKS = {
    "GetCapture": {"operationId": "getCapture", "parameters": BY_ID},
    "CancelCapture": {"operationId": "cancelCapture", "parameters": BY_ID},
    "RetryCapture": {"operationId": "retryCapture", "parameters": BY_ID},
}

CaptureId = Annotated[
    int, Field(ge=1, le=BIGINT_MAX, description="The capture's id." + DIGITS), Integer
]


def _location(request: web.Request, capture_id: int) -> str:
    return str(request.app.router["capture"].url_for(capture_id=str(capture_id)))


class CaptureCollectionView(ProblemView):
    """Captures: images fetched from URLs by background jobs."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "listCaptures",
            "responses": {
                "200": {
                    "content": {
                        "application/json": {"schema": CaptureListing},
                        "application/x-ndjson": {
                            "schema": {
                                "type": "array",
                                "items": Capture,
                                "description": "Newline-delimited JSON: one capture per line.",
                            },
                        },
                    },
                },
                **QUEUE_BUSY,
                "429": STREAM_BUSY["429"],
            },
        },
        "POST": {
            "operationId": "createCapture",
            "requestBody": json_body(CaptureCreate),
            "responses": {
                "200": {"headers": LOCATION, "links": LINKS},
                "202": {"headers": LOCATION, "links": LINKS},
                **QUEUE_BUSY,
            },
        },
    }

    async def post(self) -> r200[Capture] | r202[Capture] | r400[Problem] | r415[Problem]:
        """
        Capture an image from a URL: queue its download.

        The download runs in the background (any server process may run it):
        only http(s) to public addresses, redirects checked, the type decided by
        the bytes. A URL captured before (not failed or cancelled) answers that
        capture, with no second download, unless ``force``. Bytes already stored
        make the capture a ``duplicate`` naming the image that holds them (its
        tags are added to it).

        Tags: captures
        Status Codes:
            200: The URL was captured before: that capture.
            202: The capture is queued; ``Location`` names it.
            400: The body is not valid JSON or a field is invalid.
            415: The body is not JSON.
        """
        body = await read_json(self.request, CaptureCreate)
        (requested,) = await service.request(
            self.db,
            [body.url],
            tags=body.tags,
            filename=body.filename,
            force=body.force,
            max_attempts=self.settings.jobs_max_attempts,
        )
        capture_id = json.loads(requested.document)["capture_id"]
        return json_document(
            requested.document,
            status=202 if requested.created else 200,
            Location=_location(self.request, capture_id),
        )

    async def get(
        self,
        status: CaptureStatus | None = None,
        chunk_size: ChunkSize | None = None,
        after_id: AfterId | None = None,
        limit: Limit | None = None,
    ) -> r200[list[Capture]] | r400[Problem]:
        """
        Stream the captures in id order, optionally only those with one status.

        The body has the envelope of GET /images: one array per chunk, then
        ``{"totalImages": N, "totalChunks": M}`` (N counts captures here); with
        ``Accept: application/x-ndjson``, one capture per line. Walk a large set
        in pages with ``after_id`` (the last capture_id seen) and ``limit``.

        Tags: captures
        Status Codes:
            200: The captures, streamed in chunks.
            400: A parameter is invalid, unknown or repeated.
        """
        opened = queries.open_captures(
            self.db,
            status=status,
            after_id=after_id,
            limit=limit,
            chunk_size=chunk_size or self.settings.chunk_size,
        )
        return await stream_document(self.request, opened)


class CaptureBatchView(ProblemView):
    """Many captures at once."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "createCaptures",
            "requestBody": json_body(CaptureBatch),
            "responses": QUEUE_BUSY,
        },
    }

    async def post(self) -> r202[list[Capture]] | r400[Problem] | r415[Problem]:
        """
        Capture several URLs with the same tags, in one transaction.

        One capture per distinct URL, in the order given: a URL captured before
        answers that capture (unless ``force``), the others are queued.

        Tags: captures
        Status Codes:
            202: Every URL's capture.
            400: The body is not valid JSON or a field is invalid.
            415: The body is not JSON.
        """
        body = await read_json(self.request, CaptureBatch)
        requested = await service.request(
            self.db,
            body.urls,
            tags=body.tags,
            force=body.force,
            max_attempts=self.settings.jobs_max_attempts,
        )
        document = "[" + ",".join(r.document for r in requested) + "]"
        return json_document(document, status=202)


class CaptureView(ProblemView):
    """One capture."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "DELETE": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getCapture", "responses": QUEUE_BUSY},
        "DELETE": {"operationId": "cancelCapture", "responses": QUEUE_BUSY},
    }

    async def get(
        self, capture_id: CaptureId, /
    ) -> r200[Capture] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        Read one capture: its status, attempts, last error and, once done, its image.

        Tags: captures
        Status Codes:
            200: The capture.
            400: The id is not plain decimal digits in range.
            404: There is no capture with this id.
            410: The capture was cancelled.
        """
        async with self.db.cursor() as cur:
            return json_document(await queries.capture_json(cur, capture_id))

    async def delete(
        self, capture_id: CaptureId, /
    ) -> r200[Capture] | r400[Problem] | r404[Problem] | r409[Problem] | r410[Problem]:
        """
        Cancel a capture still waiting in the queue.

        A cancelled capture is gone: reading it again answers 410 (it stays in
        listings, with status ``cancelled``), and the URL may be captured anew.

        Tags: captures
        Status Codes:
            200: The capture, now cancelled.
            400: The id is not plain decimal digits in range.
            404: There is no capture with this id.
            409: The capture is not queued (running or finished).
            410: The capture was cancelled already.
        """
        return json_document(await service.cancel(self.db, capture_id))


class CaptureRetryView(ProblemView):
    """Trying a failed capture again."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {"operationId": "retryCapture", "responses": QUEUE_BUSY},
    }

    async def post(
        self, capture_id: CaptureId, /
    ) -> r202[Capture] | r400[Problem] | r404[Problem] | r409[Problem] | r410[Problem]:
        """
        Queue a failed capture again, its attempts counted from zero.

        A capture still queued is answered as it is (it waits already).

        Tags: captures
        Status Codes:
            202: The capture, queued (again).
            400: The id is not plain decimal digits in range.
            404: There is no capture with this id.
            409: The capture is running or done.
            410: The capture was cancelled.
        """
        return json_document(await service.retry(self.db, capture_id), status=202)


class CaptureSwitchView(ProblemView):
    """Whether captures are dispatched (seed 001's "enabled")."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "PUT": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getCaptureSwitch", "responses": QUEUE_BUSY},
        "PUT": {
            "operationId": "setCaptureSwitch",
            "requestBody": json_body(Switch),
            "responses": QUEUE_BUSY,
        },
    }

    async def get(self) -> r200[SwitchState]:
        """
        Whether the captures queue is dispatched, and how much work it holds.

        Tags: captures
        Status Codes:
            200: The switch and the numbers of queued and running captures.
        """
        return _switch(await service.switch(self.db))

    async def put(self) -> r200[SwitchState] | r400[Problem] | r415[Problem]:
        """
        Pause (``false``) or resume (``true``) the captures queue.

        Paused, no capture starts: running ones finish, queued ones wait.
        Resumed, every server process dispatches them again at once.

        Tags: captures
        Status Codes:
            200: The switch as it now is.
            400: The body is not ``{"enabled": true|false}``.
            415: The body is not JSON.
        """
        body = await read_json(self.request, Switch)
        return _switch(await service.switch(self.db, body.enabled))


def _switch(state: object) -> web.Response:
    return json_document(SwitchState.model_validate(state, from_attributes=True).model_dump_json())
