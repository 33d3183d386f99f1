"""/events (the feed: NDJSON pages, long polls, Server-Sent Events) and /webhooks."""

import asyncio
import json
from typing import Annotated, Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r201, r202, r204, r400, r404, r410, r415
from pydantic import Field

from pixtag import keys
from pixtag.auth.middleware import PRINCIPAL
from pixtag.events import feed, queries, webhooks
from pixtag.events.context import BELL
from pixtag.events.models import (
    Delivery,
    DeliveryId,
    DeliveryList,
    Event,
    EventType,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookId,
    WebhookList,
    WebhookPatch,
)
from pixtag.models import Integer, Problem
from pixtag.openapi.fragments import BUSY, header, json_body, location
from pixtag.views.base import ProblemView, read_json

NDJSON = "application/x-ndjson"
AFTER_PATTERN = r"^((0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,18})|now)$"
EVENT_STREAM = "text/event-stream"
# An event stream's comment line every so often (proxies close idle connections), and
# how long one stays open before the client is asked to come back (it resumes).
HEARTBEAT = 15.0
STREAM_SECONDS = 600.0

After = Annotated[
    str,
    Field(
        max_length=41,
        description="Resume after this event id; `now`: from the latest event on. Without"
        " it: from the oldest event kept.",
        json_schema_extra={"pattern": AFTER_PATTERN},
    ),
]
Wait = Annotated[
    float,
    Field(ge=0, le=60, description="Seconds to wait for an event when none is there yet."),
]
EventLimit = Annotated[
    int, Field(ge=1, le=10_000, description="At most this many events (default 1,000)."), Integer
]
DeliveryStatus = Annotated[str, Field(pattern="^(pending|succeeded|failed)$")]
CURSOR = {
    "Pixtag-Cursor": header(
        "Where this page read up to: the next page's `after` (past events of other types)."
    )
}


def _admin(request: web.Request) -> bool:
    """Whether the reader sees token events: the admin scope (or a server without auth)."""
    if not request.app[keys.SETTINGS].auth_enabled:
        return True
    principal = request.get(PRINCIPAL)
    return principal is not None and principal.allows("admin")


def _webhook(row: queries.WebhookRow, secret: str | None = None) -> dict[str, Any]:
    document = {
        "webhook_id": row.webhook_id,
        "url": row.url,
        "types": row.types,
        "description": row.description,
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "failures": row.failures,
        "retry_at": row.retry_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
    if secret is not None:
        document["secret"] = secret
    return document


def _delivery(row: queries.DeliveryRow) -> dict[str, Any]:
    return dict(row.__dict__)


class EventsView(ProblemView):
    """The feed of every change, in commit order."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "listEvents",
            "parameters": [
                {
                    "in": "header",
                    "name": "Last-Event-ID",
                    "required": False,
                    "description": "Resumes a text/event-stream after this event id"
                    " (as 1234-5; read only there).",
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": {
                    "headers": CURSOR,
                    "content": {
                        NDJSON: {
                            "schema": {
                                "type": "array",
                                "items": Event,
                                "description": "Newline-delimited JSON: one event per line.",
                            }
                        },
                        EVENT_STREAM: {
                            "schema": {
                                "type": "string",
                                "description": "Server-Sent Events: `id:` the event's id,"
                                " `data:` the event.",
                            }
                        },
                    },
                },
                **BUSY,
            },
        }
    }

    async def get(
        self,
        after: After | None = None,
        types: list[EventType] = [],  # noqa: B006 - aiohttp-pydantic reads the default
        wait: Wait = 0,
        limit: EventLimit = 1000,
    ) -> r200[list[Event]] | r400[Problem] | r410[Problem]:
        """
        The events after ``after`` in commit order, as NDJSON: ``{id, type, at, data}`` per
        line, at most ``limit``. With ``wait``, an empty answer waits that long for the
        next commit. ``types`` (repeated) keeps those types or families (``image``,
        ``image.deleted``); token events need the admin scope. With ``Accept:
        text/event-stream`` the answer is Server-Sent Events that go on as changes commit
        (``Last-Event-ID`` resumes).

        Tags: events
        Status Codes:
            200: The events (``Pixtag-Cursor``: where to resume).
            400: A parameter is invalid, unknown or repeated.
            410: Events after ``after`` are no longer kept: ``restart_after`` says where
                to follow from once the current state is read again.
        """
        admin = _admin(self.request)
        if EVENT_STREAM in self.request.headers.get("Accept", ""):
            last_id = self.request.headers.get("Last-Event-ID")
            if last_id is not None:
                feed.parse_position(last_id, "Last-Event-ID")
            resume = after or last_id
            return await self._event_stream(await feed.start(self.db, resume), types, admin)
        position = await feed.start(self.db, after)
        page = await feed.next_page(
            self.db,
            self.request.app[BELL],
            position,
            types=list(types),
            admin=admin,
            limit=limit,
            wait=wait,
        )
        body = "".join(line + "\n" for line in page.lines)
        return web.Response(
            text=body,
            content_type=NDJSON,
            headers={"Pixtag-Cursor": str(page.position), "Cache-Control": "no-store"},
        )

    async def _event_stream(
        self, position: queries.Position, types: list[str], admin: bool
    ) -> web.StreamResponse:
        app = self.request.app
        bell, in_flight = app[BELL], app[keys.IN_FLIGHT]
        response = web.StreamResponse(
            headers={"Content-Type": EVENT_STREAM, "Cache-Control": "no-store"}
        )
        await response.prepare(self.request)
        await response.write(b"retry: 1000\n\n")
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_SECONDS
        quiet_since = loop.time()
        while loop.time() < ends and not in_flight.draining:
            page = await feed.next_page(
                self.db, bell, position, types=types, admin=admin, limit=1000, wait=1.0
            )
            position = page.position
            if page.lines:
                out = []
                for line in page.lines:
                    event_id = json.loads(line)["id"]
                    out.append(f"id: {event_id}\ndata: {line}\n\n")
                await response.write("".join(out).encode())
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= HEARTBEAT:
                await response.write(b": still here\n\n")
                quiet_since = loop.time()
        await response.write_eof()
        return response


class WebhookCollectionView(ProblemView):
    """Webhooks."""

    access: ClassVar[dict[str, str]] = {"GET": "admin", "POST": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listWebhooks", "responses": BUSY},
        "POST": {
            "operationId": "createWebhook",
            "requestBody": json_body(WebhookCreate),
            "responses": {"201": {"headers": location("The webhook.")}, **BUSY},
        },
    }

    async def get(self) -> r200[WebhookList]:
        """
        Every webhook, without its secret.

        Tags: webhooks
        Status Codes:
            200: The webhooks.
        """
        async with self.db.cursor() as cur:
            rows = await queries.list_webhooks(cur)
        return web.json_response({"webhooks": [_webhook(row) for row in rows]})

    async def post(self) -> r201[WebhookCreated] | r400[Problem] | r415[Problem]:
        """
        Create a webhook: the events committed from now on (of ``types``, or all) are
        POSTed to ``url`` one at a time in order, signed with ``secret`` (made when not
        given, and shown only in this answer).

        Tags: webhooks
        Status Codes:
            201: The webhook and its secret; ``Location`` names it.
            400: The body is not valid JSON, a field is invalid, or the URL is refused
                (not http(s), credentials, a private address not allowed).
            415: The body is not JSON.
        """
        body = await read_json(self.request, WebhookCreate)
        row, secret = await webhooks.create(self.db, self.settings, body)
        url = self.request.app.router["webhook"].url_for(webhook_id=str(row.webhook_id))
        return web.json_response(_webhook(row, secret), status=201, headers={"Location": str(url)})


class WebhookView(ProblemView):
    """One webhook."""

    access: ClassVar[dict[str, str]] = {"GET": "admin", "PATCH": "admin", "DELETE": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getWebhook", "responses": BUSY},
        "PATCH": {
            "operationId": "updateWebhook",
            "requestBody": json_body(WebhookPatch),
            "responses": BUSY,
        },
        "DELETE": {"operationId": "deleteWebhook", "responses": BUSY},
    }

    async def get(self, webhook_id: WebhookId, /) -> r200[Webhook] | r400[Problem] | r404[Problem]:
        """
        A webhook: where it posts, and whether it is enabled (else why not).

        Tags: webhooks
        Status Codes:
            200: The webhook.
            400: The id is invalid.
            404: No webhook has this id.
        """
        async with self.db.cursor() as cur:
            row = await queries.read_webhook(cur, webhook_id)
        return web.json_response(_webhook(row))

    async def patch(
        self, webhook_id: WebhookId, /
    ) -> r200[Webhook] | r400[Problem] | r404[Problem] | r415[Problem]:
        """
        Change a webhook's ``url``, ``types``, ``secret`` or ``description``, or enable
        or disable it (enabled again, it resumes where it stopped, its failures forgotten).

        Tags: webhooks
        Status Codes:
            200: The webhook as changed.
            400: The body is not valid JSON, empty, or a field is invalid or null.
            404: No webhook has this id.
            415: The body is not JSON.
        """
        patch = await read_json(self.request, WebhookPatch)
        row = await webhooks.edit(self.db, self.settings, webhook_id, patch)
        return web.json_response(_webhook(row))

    async def delete(self, webhook_id: WebhookId, /) -> r204[None] | r400[Problem] | r404[Problem]:
        """
        Delete a webhook and its deliveries.

        Tags: webhooks
        Status Codes:
            204: Deleted.
            400: The id is invalid.
            404: No webhook has this id.
        """
        async with self.db.cursor() as cur:
            await queries.delete_webhook(cur, webhook_id)
        return web.Response(status=204)


class DeliveriesView(ProblemView):
    """A webhook's deliveries, newest first."""

    access: ClassVar[dict[str, str]] = {"GET": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listWebhookDeliveries", "responses": BUSY},
    }

    async def get(
        self,
        webhook_id: WebhookId,
        /,
        before: DeliveryId | None = None,
        status: DeliveryStatus | None = None,
        limit: Annotated[int, Field(ge=1, le=1000), Integer] = 100,
    ) -> r200[DeliveryList] | r400[Problem] | r404[Problem]:
        """
        The webhook's deliveries, newest first: each event sent (or redelivered), its
        status, attempts, the last response's status and first 1,024 characters, and how
        long it took. ``before`` pages on (a delivery id), ``status`` keeps one status.

        Tags: webhooks
        Status Codes:
            200: The deliveries.
            400: A parameter is invalid.
            404: No webhook has this id.
        """
        async with self.db.cursor() as cur:
            rows = await queries.list_deliveries(
                cur, webhook_id, before=before, status=status, limit=limit
            )
        return web.json_response({"deliveries": [_delivery(row) for row in rows]})


class RedeliverView(ProblemView):
    """Sending a delivery's event again."""

    access: ClassVar[dict[str, str]] = {"POST": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {"operationId": "redeliverWebhookDelivery", "responses": BUSY},
    }

    async def post(
        self, webhook_id: WebhookId, delivery_id: DeliveryId, /
    ) -> r202[Delivery] | r400[Problem] | r404[Problem]:
        """
        Send the delivery's event again (with the same ``webhook-id``, so a receiver that
        has it already can tell), as a new delivery outside the webhook's order, whether
        the webhook is enabled or not.

        Tags: webhooks
        Status Codes:
            202: The new delivery, queued.
            400: An id is invalid.
            404: No webhook, or no delivery of it, has this id.
        """
        row = await webhooks.redeliver(self.db, webhook_id, delivery_id)
        return web.json_response(_delivery(row), status=202)
