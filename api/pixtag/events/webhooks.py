"""Webhooks: what a request means, and the delivery runs on the job engine.

A webhook follows the feed from where it was made, like any reader: a run
(a job of the ``webhooks`` queue, at most one queued per webhook) takes the
webhook's turn (one runner at a time keeps the order), reads the events
after its position, and sends the first of its types; the position moves
past it only once the receiver answered 2xx (at least once, in order: an
attempt whose outcome was lost is sent again, with the same ``webhook-id``).
A failure keeps the event pending and the webhook waits: 5xx, 408, 429,
timeouts and lost connections are tried again after a doubling, jittered
delay (at least the ``Retry-After`` asked, within the cap); another 4xx or a
redirect fails that event for good and the run goes on; 410 Gone, an address
the guard refuses, or ``PIXTAG_WEBHOOK_MAX_FAILURES`` failed attempts in a
row disable the webhook, with the reason. Each webhook's runs are separate
jobs, so a slow receiver holds one slot for at most its timeout.

Requests are signed as the Standard Webhooks specification says:
``webhook-id`` (the event's id), ``webhook-timestamp`` (seconds) and
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed
with the secret's bytes.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from yarl import URL

from pixtag.db.database import Database
from pixtag.errors import BadRequest
from pixtag.events import queries
from pixtag.events.models import WebhookCreate, WebhookPatch
from pixtag.events.queries import Position, Turn, WebhookRow
from pixtag.jobs.queries import Claimed
from pixtag.net.fetch import Fetcher
from pixtag.net.guard import Policy, Refused
from pixtag.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "webhooks"
KIND = "webhook"
REDELIVERY = "redelivery"
EXCERPT = 1024
# Bytes of a response read (the rest is not waited for).
RESPONSE_CAP = 64 * 1024
# Events read per look at the feed, and how long one run delivers before it makes way.
SCAN = 200
RUN_SECONDS = 30.0
USER_AGENT = "pixtag-webhooks/1"


def make_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def payload(document: str) -> tuple[str, str, datetime, str]:
    """The event's id, type, time, and the body sent: ``{type, timestamp, data}`` (the
    specification's shape) with the event's id."""
    event = json.loads(document)
    body = {
        "id": event["id"],
        "type": event["type"],
        "timestamp": event["at"],
        "data": event["data"],
    }
    at = datetime.fromisoformat(event["at"])
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return event["id"], event["type"], at, text


def check_url(settings: Settings, url: str) -> None:
    """400 for a URL the guard refuses as written (scheme, credentials, a private literal)."""
    try:
        Policy.from_lists(settings.webhook_allow, ()).check_url(URL(url))
    except (Refused, ValueError) as error:
        raise BadRequest(f"url: {getattr(error, 'message', error)}") from error


async def create(db: Database, settings: Settings, body: WebhookCreate) -> tuple[WebhookRow, str]:
    check_url(settings, body.url)
    secret = body.secret or make_secret()
    async with db.transaction() as cur:
        after = await queries.latest(cur)
        row = await queries.create_webhook(
            cur,
            url=body.url,
            types=body.types,
            secret=secret,
            description=body.description,
            after=after,
        )
    return row, secret


async def edit(
    db: Database, settings: Settings, webhook_id: int, patch: WebhookPatch
) -> WebhookRow:
    if patch.url is not None:
        check_url(settings, patch.url)
    async with db.transaction() as cur:
        row = await queries.edit_webhook(cur, webhook_id, patch.model_dump(exclude_unset=True))
        if row.enabled:
            await queries.wake(cur, webhook_id)
    return row


async def redeliver(db: Database, webhook_id: int, delivery_id: int) -> queries.DeliveryRow:
    """Send a delivery's event again, apart from the webhook's order (a new delivery)."""
    async with db.transaction() as cur:
        row, body, event_at = await queries.read_delivery(cur, webhook_id, delivery_id)
        new_id = await queries.add_delivery(
            cur,
            webhook_id,
            event_id=row.event_id,
            event_type=row.event_type,
            event_at=event_at,
            payload=body,
            redelivery=True,
        )
        await queries.redeliver_later(cur, new_id)
        new, _, _ = await queries.read_delivery(cur, webhook_id, new_id)
    return new


@dataclass(frozen=True)
class Outcome:
    """How an attempt went; ``retry`` or ``permanent`` failures, or success."""

    ok: bool
    status: int | None
    excerpt: str | None
    error: str | None
    duration_ms: int
    retry: bool = False
    retry_after: float | None = None
    disable: str | None = None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class Sender:
    """POSTs signed events through the guarded client; one per process."""

    def __init__(self, fetcher: Fetcher, settings: Settings) -> None:
        self.fetcher = fetcher
        self.settings = settings

    async def send(self, url: str, secret: str, event_id: str, body: str) -> Outcome:
        data = body.encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, event_id, timestamp, data),
        }
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(self.settings.webhook_timeout):
                async with self.fetcher.post(url, data, headers) as response:
                    chunk = await response.content.read(RESPONSE_CAP)
                    status = response.status
                    retry_after = _retry_after(response.headers.get("Retry-After"))
        except Refused as error:
            return Outcome(False, None, None, error.message, took(), disable=error.message)
        except TimeoutError:
            late = f"no answer within {self.settings.webhook_timeout:g} s"
            return Outcome(False, None, None, late, took(), retry=True)
        except (aiohttp.ClientError, OSError) as error:
            return Outcome(
                False, None, None, f"{type(error).__name__}: {error}"[:500], took(), retry=True
            )
        excerpt = chunk.decode("utf-8", "replace")[:EXCERPT]
        if 200 <= status < 300:
            return Outcome(True, status, excerpt, None, took())
        if status == 410:
            return Outcome(
                False, status, excerpt, "HTTP 410", took(), disable="the receiver answered 410 Gone"
            )
        retry = status >= 500 or status in (408, 429)
        return Outcome(
            False, status, excerpt, f"HTTP {status}", took(), retry=retry, retry_after=retry_after
        )


class Deliverer:
    """The job handlers: a webhook's delivery run, and a redelivery."""

    def __init__(self, db: Database, sender: Sender, settings: Settings) -> None:
        self.db = db
        self.sender = sender
        self.settings = settings
        self.lease = settings.webhook_timeout * 2 + 30

    def delay(self, failures: int, retry_after: float | None) -> float:
        base, cap = self.settings.webhook_retry_base, self.settings.webhook_retry_max
        delay = min(cap, base * 2.0 ** max(failures - 1, 0)) * random.uniform(0.5, 1.0)  # noqa: S311
        if retry_after is not None:
            delay = max(delay, min(retry_after, cap))
        return delay

    async def run(self, job: Claimed) -> dict[str, Any]:
        webhook_id = int(job.payload["webhook_id"])
        runner = job.token
        async with self.db.cursor() as cur:
            turn = await queries.take_turn(cur, webhook_id, runner=runner, lease=self.lease)
        if turn is None:
            return {"sent": 0, "turn": False}
        sent = 0
        try:
            sent = await self._deliver(webhook_id, runner, turn)
        finally:
            async with self.db.cursor() as cur:
                await queries.end_turn(cur, webhook_id, runner=runner)
                await queries.wake(cur, webhook_id)  # what came while it finished
        return {"sent": sent}

    async def _deliver(self, webhook_id: int, runner: str, turn: Turn) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RUN_SECONDS
        position, failures, sent = turn.after, turn.failures, 0
        while loop.time() < deadline:
            async with self.db.cursor() as cur:
                waiting = await queries.pending(cur, webhook_id)
            if waiting is None:
                found = await self._next(webhook_id, runner, turn, position)
                if found is None:
                    return sent
                if isinstance(found, Position):
                    position = found
                    continue
                waiting = found
            outcome = await self.sender.send(
                turn.url, turn.secret, waiting.event_id, waiting.payload
            )
            failed = not outcome.ok
            failures = failures + 1 if failed else 0
            disable = outcome.disable
            if disable is None and failed and failures >= self.settings.webhook_max_failures:
                disable = f"{failures} failed attempts in a row (the last: {outcome.error})"
            retry = outcome.retry and disable is None
            delay = self.delay(failures, outcome.retry_after) if retry else 0.0
            moved = None if retry or disable else parse(waiting.event_id)
            async with self.db.transaction() as cur:
                recorded = await queries.attempted(
                    cur,
                    webhook_id=webhook_id,
                    runner=runner,
                    delivery_id=waiting.delivery_id,
                    status="pending"
                    if retry or (failed and disable)
                    else "failed"
                    if failed
                    else "succeeded",
                    response_status=outcome.status,
                    excerpt=outcome.excerpt,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                    delay=delay,
                    failed=failed,
                    retry=retry,
                    disable_reason=disable,
                    lease=self.lease,
                    xid=str(moved.xid) if moved else None,
                    seq=moved.seq if moved else None,
                )
                if recorded is not None and retry:
                    await queries.wake_later(cur, webhook_id, delay)
            if recorded is None:
                log.info("webhooks: webhook %d's turn was taken over", webhook_id)
                return sent
            if disable is not None:
                log.warning("webhooks: webhook %d disabled: %s", webhook_id, disable)
                return sent
            if retry:
                return sent
            sent += 1
            if moved is not None:
                position = moved
        return sent

    async def _next(
        self, webhook_id: int, runner: str, turn: Turn, position: Position
    ) -> queries.Pending | Position | None:
        """The next event of the webhook's types as a pending delivery; a new position when
        only other events were read; None when there is nothing more (now)."""
        async with self.db.cursor() as cur:
            rows = await queries.read(cur, position, types=list(turn.types), admin=True, scan=SCAN)
        for row in rows:
            if not row.visible:
                continue
            event_id, event_type, at, body = payload(row.document)
            async with self.db.transaction() as cur:
                before = _before(row.position)
                if before != position:
                    await queries.skipped(cur, webhook_id, before, runner=runner, lease=self.lease)
                delivery_id = await queries.add_delivery(
                    cur,
                    webhook_id,
                    event_id=event_id,
                    event_type=event_type,
                    event_at=at,
                    payload=body,
                )
            return queries.Pending(delivery_id, event_id, body, 0, at)
        if rows:
            async with self.db.cursor() as cur:
                await queries.skipped(
                    cur, webhook_id, rows[-1].position, runner=runner, lease=self.lease
                )
            return rows[-1].position
        return None

    async def redeliver(self, job: Claimed) -> dict[str, Any]:
        delivery_id = int(job.payload["delivery_id"])
        async with self.db.cursor() as cur:
            found = await queries.to_send(cur, delivery_id)
        if found is None:
            return {"sent": False}
        outcome = await self.sender.send(found.url, found.secret, found.event_id, found.payload)
        async with self.db.cursor() as cur:
            await queries.redelivery_attempted(
                cur,
                delivery_id=delivery_id,
                status="succeeded" if outcome.ok else "failed",
                response_status=outcome.status,
                excerpt=outcome.excerpt,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        return {"sent": outcome.ok}


def parse(event_id: str) -> Position:
    xid, seq = event_id.split("-")
    return Position(int(xid), int(seq))


def _before(position: Position) -> Position:
    """The position just before an event (its predecessor in the order)."""
    return Position(position.xid, position.seq - 1)
