"""The events' SQL: reading the feed below the horizon, retention, and the webhooks' rows.

Events are written by triggers (fixture 035), never here: this module reads
them, prunes them, and keeps the webhooks and their deliveries. A position
is ``(xid, seq)``; ``events_after`` returns only what no running
transaction can still precede.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pixtag.errors import NotFound

# Each event below the horizon after a position, rendered, with whether the reader may see
# it; ``scan`` bounds the rows one statement reads (the position moves past the others).
READ = """
    SELECT e.xid::text, e.seq,
           row_to_json(
               ROW(e.xid::text || '-' || e.seq, e.type, utc_iso(e.at), e.data)::event_doc
           )::text,
           (%(admin)s OR e.type NOT LIKE 'token.%%')
           AND (cardinality(%(types)s::text[]) = 0 OR e.type = ANY (%(types)s::text[])
                OR split_part(e.type, '.', 1) = ANY (%(types)s::text[]))
    FROM events_after(%(xid)s::xid8, %(seq)s, %(scan)s) AS e
"""

# Whether events after a position are held back by a transaction still running.
HELD_BACK = "SELECT EXISTS (SELECT 1 FROM events WHERE (xid, seq) > (%(xid)s::xid8, %(seq)s))"

PRUNED = "SELECT xid::text, seq FROM events_pruned"

# The newest event committed (held back or not): a reader waiting has news when it changes.
NEWEST = "SELECT e.xid::text, e.seq FROM events AS e ORDER BY e.xid DESC, e.seq DESC LIMIT 1"

# The newest position a reader may see now (where "from now on" starts).
LATEST = """
    SELECT e.xid::text, e.seq FROM events AS e
    WHERE e.xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.xid DESC, e.seq DESC LIMIT 1
"""

PRUNE = "SELECT prune_events(now() - make_interval(secs => %(seconds)s), %(batch)s)"

WEBHOOK_COLUMNS = """
    webhook_id, url, types, description, enabled, disabled_reason, failures,
    utc_iso(retry_at), utc_iso(created_at), utc_iso(updated_at)
"""

CREATE_WEBHOOK = f"""
    INSERT INTO webhooks (url, types, secret, description, after_xid, after_seq)
    VALUES (%(url)s, %(types)s::text[], %(secret)s, %(description)s,
            %(xid)s::xid8, %(seq)s)
    RETURNING {WEBHOOK_COLUMNS}
"""  # noqa: S608 - constant fragments; values bound

READ_WEBHOOK = f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE webhook_id = %(webhook_id)s"  # noqa: S608 - constant fragments; values bound

LIST_WEBHOOKS = f"SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY webhook_id"  # noqa: S608 - constant fragments; values bound

# A re-enabled webhook starts again at once, its failure run forgotten.
EDIT_WEBHOOK = f"""
    UPDATE webhooks
    SET url = coalesce(%(url)s, url),
        types = coalesce(%(types)s::text[], types),
        secret = coalesce(%(secret)s, secret),
        description = coalesce(%(description)s, description),
        enabled = coalesce(%(enabled)s, enabled),
        disabled_reason = CASE WHEN coalesce(%(enabled)s, enabled) THEN NULL
                               WHEN %(enabled)s IS NOT NULL THEN 'disabled by hand'
                               ELSE disabled_reason END,
        failures = CASE WHEN %(enabled)s THEN 0 ELSE failures END,
        retry_at = CASE WHEN %(enabled)s THEN NULL ELSE retry_at END,
        updated_at = now()
    WHERE webhook_id = %(webhook_id)s
    RETURNING {WEBHOOK_COLUMNS}
"""  # noqa: S608 - constant fragments; values bound

DELETE_WEBHOOK = "DELETE FROM webhooks WHERE webhook_id = %(webhook_id)s RETURNING 1"

# A delivery run for each enabled webhook that has events after its position and no
# retry pending (one queued run per webhook at most: the unique index).
WAKE = """
    INSERT INTO jobs (queue, kind, payload, max_attempts)
    SELECT 'webhooks', 'webhook', jsonb_build_object('webhook_id', w.webhook_id::text), 1
    FROM webhooks AS w
    WHERE w.enabled AND (w.retry_at IS NULL OR w.retry_at <= now())
      AND (w.webhook_id = %(webhook_id)s OR %(webhook_id)s IS NULL)
      AND EXISTS (SELECT 1 FROM events AS e WHERE (e.xid, e.seq) > (w.after_xid, w.after_seq))
    ON CONFLICT ((payload ->> 'webhook_id')) WHERE kind = 'webhook' AND status = 'queued'
    DO NOTHING
"""

# A later run for one webhook (after a failure: when its retry is due).
WAKE_LATER = """
    INSERT INTO jobs (queue, kind, payload, max_attempts, run_after)
    VALUES ('webhooks', 'webhook', jsonb_build_object('webhook_id', %(webhook_id)s::text), 1,
            now() + make_interval(secs => %(delay)s))
    ON CONFLICT ((payload ->> 'webhook_id')) WHERE kind = 'webhook' AND status = 'queued'
    DO UPDATE SET run_after = excluded.run_after
"""

REDELIVER_LATER = """
    INSERT INTO jobs (queue, kind, payload, max_attempts)
    VALUES ('webhooks', 'redelivery', jsonb_build_object('delivery_id', %(delivery_id)s), 1)
"""

# Taking the webhook's turn: one runner at a time (the order), for ``lease`` seconds.
TAKE_TURN = """
    UPDATE webhooks
    SET runner = %(runner)s, runner_until = now() + make_interval(secs => %(lease)s)
    WHERE webhook_id = %(webhook_id)s AND enabled
      AND (retry_at IS NULL OR retry_at <= now())
      AND (runner IS NULL OR runner_until < now() OR runner = %(runner)s)
    RETURNING url, types, secret, after_xid::text, after_seq, failures
"""

END_TURN = """
    UPDATE webhooks SET runner = NULL, runner_until = NULL
    WHERE webhook_id = %(webhook_id)s AND runner = %(runner)s
"""

# The webhook's pending delivery (an attempt that failed or whose outcome was lost).
PENDING = """
    SELECT delivery_id, event_id, payload, attempts, event_at
    FROM webhook_deliveries
    WHERE webhook_id = %(webhook_id)s AND status = 'pending' AND NOT redelivery
"""

ADD_DELIVERY = """
    INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, event_at, payload, redelivery)
    VALUES (%(webhook_id)s, %(event_id)s, %(event_type)s, %(event_at)s, %(payload)s, %(redelivery)s)
    RETURNING delivery_id
"""

# An attempt's outcome, and the webhook's position and failure run with it (fenced by
# the runner: a runner whose turn was taken over records nothing).
ATTEMPTED = """
    WITH d AS (
        UPDATE webhook_deliveries
        SET status = %(status)s, attempts = attempts + 1, response_status = %(response_status)s,
            response_excerpt = %(excerpt)s, error = %(error)s, duration_ms = %(duration_ms)s,
            attempted_at = now(), next_attempt_at = now() + make_interval(secs => %(delay)s)
        WHERE delivery_id = %(delivery_id)s
          AND EXISTS (SELECT 1 FROM webhooks
                      WHERE webhook_id = %(webhook_id)s AND runner = %(runner)s)
        RETURNING webhook_id
    )
    UPDATE webhooks AS w
    SET failures = CASE WHEN %(failed)s THEN w.failures + 1 ELSE 0 END,
        retry_at = CASE WHEN %(retry)s THEN now() + make_interval(secs => %(delay)s) END,
        after_xid = coalesce(%(xid)s::xid8, w.after_xid),
        after_seq = coalesce(%(seq)s, w.after_seq),
        enabled = w.enabled AND %(disable_reason)s IS NULL,
        disabled_reason = coalesce(%(disable_reason)s, w.disabled_reason),
        runner = CASE WHEN %(retry)s OR %(disable_reason)s IS NOT NULL THEN NULL ELSE w.runner END,
        runner_until = now() + make_interval(secs => %(lease)s)
    FROM d
    WHERE w.webhook_id = d.webhook_id
    RETURNING w.failures
"""

# Past events none of the webhook's types: its position moves on.
SKIPPED = """
    UPDATE webhooks SET after_xid = %(xid)s::xid8, after_seq = %(seq)s,
                        runner_until = now() + make_interval(secs => %(lease)s)
    WHERE webhook_id = %(webhook_id)s AND runner = %(runner)s
"""

REDELIVERY_ATTEMPTED = """
    UPDATE webhook_deliveries
    SET status = %(status)s, attempts = attempts + 1, response_status = %(response_status)s,
        response_excerpt = %(excerpt)s, error = %(error)s, duration_ms = %(duration_ms)s,
        attempted_at = now()
    WHERE delivery_id = %(delivery_id)s
"""

DELIVERY_COLUMNS = """
    d.delivery_id, d.webhook_id, d.event_id, d.event_type, d.redelivery, d.status, d.attempts,
    d.response_status, d.response_excerpt, d.error, d.duration_ms, utc_iso(d.created_at),
    utc_iso(d.attempted_at), utc_iso(CASE WHEN d.status = 'pending' THEN d.next_attempt_at END)
"""

LIST_DELIVERIES = f"""
    SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries AS d
    WHERE d.webhook_id = %(webhook_id)s
      AND (%(before)s::bigint IS NULL OR d.delivery_id < %(before)s)
      AND (%(status)s::text IS NULL OR d.status = %(status)s)
    ORDER BY d.delivery_id DESC
    LIMIT %(limit)s
"""  # noqa: S608 - constant fragments; values bound

READ_DELIVERY = f"""
    SELECT {DELIVERY_COLUMNS}, d.payload, d.event_at FROM webhook_deliveries AS d
    WHERE d.webhook_id = %(webhook_id)s AND d.delivery_id = %(delivery_id)s
"""  # noqa: S608 - constant fragments; values bound

DELIVERY_TO_SEND = """
    SELECT d.webhook_id, w.url, w.secret, d.event_id, d.payload, d.event_at
    FROM webhook_deliveries AS d JOIN webhooks AS w USING (webhook_id)
    WHERE d.delivery_id = %(delivery_id)s AND d.status = 'pending'
"""


@dataclass(frozen=True)
class Position:
    """Where a reader is in the feed: after the event ``xid-seq`` ("0-0": the start)."""

    xid: int
    seq: int

    def __str__(self) -> str:
        return f"{self.xid}-{self.seq}"

    @property
    def params(self) -> dict[str, Any]:
        return {"xid": str(self.xid), "seq": self.seq}


START = Position(0, 0)


@dataclass(frozen=True)
class Row:
    position: Position
    document: str
    visible: bool


@dataclass(frozen=True)
class WebhookRow:
    webhook_id: int
    url: str
    types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    failures: int
    retry_at: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Turn:
    """A webhook's delivery run, held by this runner."""

    url: str
    types: tuple[str, ...]
    secret: str
    after: Position
    failures: int


@dataclass(frozen=True)
class Pending:
    delivery_id: int
    event_id: str
    payload: str
    attempts: int
    event_at: datetime


@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: int
    webhook_id: int
    event_id: str
    event_type: str
    redelivery: bool
    status: str
    attempts: int
    response_status: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int | None
    created_at: str
    attempted_at: str | None
    next_attempt_at: str | None


@dataclass(frozen=True)
class ToSend:
    webhook_id: int
    url: str
    secret: str
    event_id: str
    payload: str
    event_at: datetime


class WebhookNotFound(NotFound):
    def __init__(self, webhook_id: int) -> None:
        super().__init__(f"Webhook <{webhook_id}> is not found")


class DeliveryNotFound(NotFound):
    def __init__(self, webhook_id: int, delivery_id: int) -> None:
        super().__init__(f"Webhook <{webhook_id}> has no delivery <{delivery_id}>")


async def read(cur: Any, after: Position, *, types: list[str], admin: bool, scan: int) -> list[Row]:
    """Up to ``scan`` events after ``after`` below the horizon, each with whether the reader
    sees it (its scope, ``types``)."""
    await cur.execute(READ, {**after.params, "types": types, "admin": admin, "scan": scan})
    return [Row(Position(int(x), s), doc, visible) for x, s, doc, visible in await cur.fetchall()]


async def held_back(cur: Any, after: Position) -> bool:
    await cur.execute(HELD_BACK, after.params)
    (held,) = await cur.fetchone()
    return bool(held)


async def newest(cur: Any) -> Position | None:
    await cur.execute(NEWEST)
    row = await cur.fetchone()
    return Position(int(row[0]), row[1]) if row else None


async def pruned(cur: Any) -> Position | None:
    await cur.execute(PRUNED)
    row = await cur.fetchone()
    return Position(int(row[0]), row[1]) if row else None


async def latest(cur: Any) -> Position:
    await cur.execute(LATEST)
    row = await cur.fetchone()
    return Position(int(row[0]), row[1]) if row else START


async def prune(cur: Any, *, seconds: float, batch: int) -> int:
    await cur.execute(PRUNE, {"seconds": seconds, "batch": batch})
    (removed,) = await cur.fetchone()
    return int(removed)


def _webhook(row: tuple[Any, ...]) -> WebhookRow:
    return WebhookRow(row[0], row[1], list(row[2]), *row[3:])


async def create_webhook(
    cur: Any, *, url: str, types: list[str], secret: str, description: str, after: Position
) -> WebhookRow:
    params = {"url": url, "types": types, "secret": secret, "description": description}
    await cur.execute(CREATE_WEBHOOK, {**params, **after.params})
    return _webhook(await cur.fetchone())


async def read_webhook(cur: Any, webhook_id: int) -> WebhookRow:
    await cur.execute(READ_WEBHOOK, {"webhook_id": webhook_id})
    row = await cur.fetchone()
    if row is None:
        raise WebhookNotFound(webhook_id)
    return _webhook(row)


async def list_webhooks(cur: Any) -> list[WebhookRow]:
    await cur.execute(LIST_WEBHOOKS)
    return [_webhook(row) for row in await cur.fetchall()]


async def edit_webhook(cur: Any, webhook_id: int, changes: dict[str, Any]) -> WebhookRow:
    fields = ("url", "types", "secret", "description", "enabled")
    await cur.execute(
        EDIT_WEBHOOK, {"webhook_id": webhook_id, **{f: changes.get(f) for f in fields}}
    )
    row = await cur.fetchone()
    if row is None:
        raise WebhookNotFound(webhook_id)
    return _webhook(row)


async def delete_webhook(cur: Any, webhook_id: int) -> None:
    await cur.execute(DELETE_WEBHOOK, {"webhook_id": webhook_id})
    if await cur.fetchone() is None:
        raise WebhookNotFound(webhook_id)


async def wake(cur: Any, webhook_id: int | None = None) -> None:
    """Queue a delivery run for the webhooks (or the one) with events waiting."""
    await cur.execute(WAKE, {"webhook_id": webhook_id})


async def wake_later(cur: Any, webhook_id: int, delay: float) -> None:
    await cur.execute(WAKE_LATER, {"webhook_id": webhook_id, "delay": delay})


async def take_turn(cur: Any, webhook_id: int, *, runner: str, lease: float) -> Turn | None:
    await cur.execute(TAKE_TURN, {"webhook_id": webhook_id, "runner": runner, "lease": lease})
    row = await cur.fetchone()
    if row is None:
        return None
    url, types, secret, xid, seq, failures = row
    return Turn(url, tuple(types), secret, Position(int(xid), seq), failures)


async def end_turn(cur: Any, webhook_id: int, *, runner: str) -> None:
    await cur.execute(END_TURN, {"webhook_id": webhook_id, "runner": runner})


async def pending(cur: Any, webhook_id: int) -> Pending | None:
    await cur.execute(PENDING, {"webhook_id": webhook_id})
    row = await cur.fetchone()
    return Pending(*row) if row else None


async def add_delivery(
    cur: Any,
    webhook_id: int,
    *,
    event_id: str,
    event_type: str,
    event_at: datetime,
    payload: str,
    redelivery: bool = False,
) -> int:
    params = {
        "webhook_id": webhook_id,
        "event_id": event_id,
        "event_type": event_type,
        "event_at": event_at,
        "payload": payload,
        "redelivery": redelivery,
    }
    await cur.execute(ADD_DELIVERY, params)
    (delivery_id,) = await cur.fetchone()
    return int(delivery_id)


async def attempted(cur: Any, **params: Any) -> int | None:
    """Record an attempt of the webhook's in-order delivery; its failure run (None: the
    turn was lost)."""
    await cur.execute(ATTEMPTED, params)
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def skipped(cur: Any, webhook_id: int, to: Position, *, runner: str, lease: float) -> None:
    params = {"webhook_id": webhook_id, "runner": runner, "lease": lease, **to.params}
    await cur.execute(SKIPPED, params)


async def redelivery_attempted(cur: Any, **params: Any) -> None:
    await cur.execute(REDELIVERY_ATTEMPTED, params)


async def list_deliveries(
    cur: Any, webhook_id: int, *, before: int | None, status: str | None, limit: int
) -> list[DeliveryRow]:
    await read_webhook(cur, webhook_id)
    params = {"webhook_id": webhook_id, "before": before, "status": status, "limit": limit}
    await cur.execute(LIST_DELIVERIES, params)
    return [DeliveryRow(*row) for row in await cur.fetchall()]


async def read_delivery(
    cur: Any, webhook_id: int, delivery_id: int
) -> tuple[DeliveryRow, str, datetime]:
    await read_webhook(cur, webhook_id)
    await cur.execute(READ_DELIVERY, {"webhook_id": webhook_id, "delivery_id": delivery_id})
    row = await cur.fetchone()
    if row is None:
        raise DeliveryNotFound(webhook_id, delivery_id)
    return DeliveryRow(*row[:-2]), row[-2], row[-1]


async def redeliver_later(cur: Any, delivery_id: int) -> None:
    await cur.execute(REDELIVER_LATER, {"delivery_id": delivery_id})


async def to_send(cur: Any, delivery_id: int) -> ToSend | None:
    await cur.execute(DELIVERY_TO_SEND, {"delivery_id": delivery_id})
    row = await cur.fetchone()
    return ToSend(*row) if row else None
